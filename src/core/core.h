// The pure C++ core of usage_meter. It must never include PostgreSQL headers: the adapters in src/pg do.
#pragma once

#ifdef POSTGRES_H
#error "src/core must stay free of PostgreSQL headers"
#endif

#include "decimal.h"
#include "error.h"
#include "limit_precedence.h"
#include "limits.h"
#include "model_match.h"
#include "payload.h"
#include "price_map.h"
#include "period.h"
#include "pricing.h"
#include "reprice.h"
#include "validate.h"
