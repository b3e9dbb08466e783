-- Catalog fingerprint of everything the extension usage_meter owns: one line per catalog fact, each section
-- sorted (COLLATE "C"; the lines of a function or view definition in their order), no OIDs, so that two
-- databases that installed the extension differently can be compared with diff. Used by
-- tests/stages/76-fresh-vs-upgrade.sh (a fresh install of the default version against CREATE EXTENSION ...
-- VERSION '1.0' + ALTER EXTENSION UPDATE). pg_dump --schema-only prints only CREATE EXTENSION for the
-- members, so this reads the catalogs instead.
--
-- What it covers: the extension row, its config-dump registration and its member list (pg_depend deptype 'e');
-- the schema; every member function (pg_get_functiondef line by line: signature with argument names and
-- defaults, result, language, volatility, strictness, SECURITY DEFINER, parallel safety, cost/rows, SET
-- options, body) and owner; every member relation (tables, the default partition, views, sequences, and the
-- relation of each member composite type) with kind, owner, options, partitioning, row-level security
-- (enabled/forced) and every column (position, type, NOT NULL, default, identity, generated, collation,
-- storage, compression, statistics target, options, inheritance); view definitions; sequence parameters and
-- ownership; indexes, constraints, triggers (with their enabled state; internal ones named by their
-- constraint), policies, rules and extended statistics of member relations; member types; every ACL (schema,
-- relations, columns, functions, types) with role names, and the extension's initial privileges
-- (pg_init_privs, which pg_dump compares against); every comment on any of these; the number of rows each
-- member table holds right after the install; and any object of the schema that is not accounted for above.
--
-- Left out on purpose, because it legitimately differs between two ways of building the same schema:
--   * OIDs, relfilenodes, relpages/reltuples and other statistics: names are printed instead of OIDs.
--   * attnum of columns: positions are counted over the columns that are not dropped, since ALTER TABLE ...
--     DROP COLUMN leaves a dropped placeholder in the upgrade path only. The order of the live columns is kept
--     (SELECT *, INSERT without a column list and the ledger's row type usage_meter.events[] depend on it).
--   * atthasmissing/attmissingval: ADD COLUMN ... DEFAULT in an upgrade script stores the default as a
--     "missing value" even on an empty table, while a column created with its table does not; the default
--     expression itself (pg_attrdef) is compared.
--   * relhassubclass (set lazily, cleared only by VACUUM/ANALYZE), relhastriggers/relhasindex/relchecks
--     (derived from the triggers, indexes and constraints printed themselves).
--   * names of internal triggers (RI_ConstraintTrigger_a_<oid>): printed by their constraint's name instead.
--   * order of pg_extension.extconfig (registration order: an upgrade script registers tables in another
--     order than a single install script would); each relation is printed with its condition, sorted.
--   * NULL ACL vs. an explicit ACL equal to the default: the effective privileges are printed (acldefault
--     when NULL); pg_init_privs, printed too, still shows which privileges the install scripts granted.
--   * sequence state (last_value, is_called) and table contents: data, not schema. The row count of each
--     member table is printed (an install that adds rows is a difference), not the rows (created_at = now()).
--   * the attribute option pg_attver=<n> that this PostgreSQL build stamps on every column it creates (the WAL
--     position at the time: two fresh installs differ too); any other column option is printed.
--   * the three group roles (usage_meter_writer/reader/admin) are cluster-wide objects, not members; the
--     grants to them are printed.
--   * monthly partitions made at run time by create_partition(s) are not extension members and are skipped
--     (with their indexes, triggers and policies); the default partition usage_meter.events_default is a
--     member and is printed like any member table.
-- Run with psql -X -q -At; it creates only temporary views. Every fact is one line: a newline inside one (an
-- expression pg_get_expr prints on several lines, a comment) is printed as \n and a backslash as \\.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
-- Everything printed schema-qualified, whatever the caller's search_path.
SET search_path = pg_catalog, pg_temp;

CREATE TEMP VIEW fp_ext AS
    SELECT e.oid, e.extnamespace FROM pg_catalog.pg_extension AS e WHERE e.extname = 'usage_meter';

CREATE TEMP VIEW fp_member AS
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend AS d, fp_ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = fp_ext.oid AND d.deptype = 'e';

-- Member relations, and the relation behind each member composite type.
CREATE TEMP VIEW fp_rel AS
    SELECT m.objid AS oid FROM fp_member AS m WHERE m.classid = 'pg_catalog.pg_class'::regclass
    UNION
    SELECT t.typrelid FROM fp_member AS m JOIN pg_catalog.pg_type AS t ON t.oid = m.objid
     WHERE m.classid = 'pg_catalog.pg_type'::regclass AND t.typrelid <> 0;

-- Everything owned: members, the schema, the extension, and the parts of member relations and types.
CREATE TEMP VIEW fp_obj AS
    SELECT m.classid, m.objid FROM fp_member AS m
    UNION SELECT 'pg_catalog.pg_extension'::regclass, fp_ext.oid FROM fp_ext
    UNION SELECT 'pg_catalog.pg_namespace'::regclass, fp_ext.extnamespace FROM fp_ext
    UNION SELECT 'pg_catalog.pg_class'::regclass, r.oid FROM fp_rel AS r
    UNION SELECT 'pg_catalog.pg_class'::regclass, i.indexrelid FROM pg_catalog.pg_index AS i JOIN fp_rel AS r ON r.oid = i.indrelid
    UNION SELECT 'pg_catalog.pg_constraint'::regclass, c.oid FROM pg_catalog.pg_constraint AS c
           WHERE c.conrelid IN (SELECT oid FROM fp_rel)
              OR c.contypid IN (SELECT objid FROM fp_member WHERE classid = 'pg_catalog.pg_type'::regclass)
    UNION SELECT 'pg_catalog.pg_trigger'::regclass, t.oid FROM pg_catalog.pg_trigger AS t JOIN fp_rel AS r ON r.oid = t.tgrelid
    UNION SELECT 'pg_catalog.pg_policy'::regclass, p.oid FROM pg_catalog.pg_policy AS p JOIN fp_rel AS r ON r.oid = p.polrelid
    UNION SELECT 'pg_catalog.pg_rewrite'::regclass, w.oid FROM pg_catalog.pg_rewrite AS w JOIN fp_rel AS r ON r.oid = w.ev_class
    UNION SELECT 'pg_catalog.pg_statistic_ext'::regclass, s.oid FROM pg_catalog.pg_statistic_ext AS s
           JOIN fp_rel AS r ON r.oid = s.stxrelid;

-- A role by name; 0 is PUBLIC.
CREATE TEMP VIEW fp_role AS
    SELECT 0::oid AS oid, 'PUBLIC'::text AS name
    UNION ALL SELECT a.oid, a.rolname::text FROM pg_catalog.pg_authid AS a;

CREATE TEMP VIEW fp_kind AS
    SELECT * FROM (VALUES ('r', 'table'), ('p', 'partitioned table'), ('v', 'view'), ('m', 'materialized view'),
                          ('S', 'sequence'), ('c', 'composite type'), ('f', 'foreign table'), ('i', 'index'),
                          ('I', 'partitioned index')) AS k(relkind, name);

-- ---------------------------------------------------------------------------------------------------------
-- The extension, its config-dump registration, its members.
-- ---------------------------------------------------------------------------------------------------------
SELECT 'extension ' || e.extname || ' version ' || e.extversion || ' schema ' || e.extnamespace::regnamespace::text
       || ' relocatable ' || e.extrelocatable || ' owner ' || pg_catalog.pg_get_userbyid(e.extowner)
  FROM pg_catalog.pg_extension AS e JOIN fp_ext USING (oid);

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'extension requires ' || r.extname AS line
  FROM fp_ext JOIN pg_catalog.pg_depend AS d ON d.classid = 'pg_catalog.pg_extension'::regclass AND d.objid = fp_ext.oid
  JOIN pg_catalog.pg_extension AS r ON d.refclassid = 'pg_catalog.pg_extension'::regclass AND r.oid = d.refobjid
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'extension config ' || c.cfg::regclass::text || ' condition ' || pg_catalog.quote_literal(COALESCE(c.cond, '<none>')) AS line
  FROM pg_catalog.pg_extension AS e JOIN fp_ext USING (oid),
       LATERAL ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS c(cfg, cond)
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'member ' || o.type || ' ' || o.identity AS line
  FROM fp_member AS m, LATERAL pg_catalog.pg_identify_object(m.classid, m.objid, 0) AS o
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- The schema.
-- ---------------------------------------------------------------------------------------------------------
SELECT 'schema ' || n.nspname::text || ' owner ' || pg_catalog.pg_get_userbyid(n.nspowner)
  FROM pg_catalog.pg_namespace AS n JOIN fp_ext ON n.oid = fp_ext.extnamespace;

-- ---------------------------------------------------------------------------------------------------------
-- Functions: the owner, and the whole definition as pg_get_functiondef prints it, one line per line of it, in
-- order (not numbered, so that a changed line shows in a diff as itself). Aggregates (pg_get_functiondef
-- refuses them) by their parts.
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'function ' || p.oid::regprocedure::text || ' owner ' || pg_catalog.pg_get_userbyid(p.proowner)
       || ' kind ' || p.prokind::text AS line
  FROM fp_member AS m JOIN pg_catalog.pg_proc AS p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid
) AS fact ORDER BY line COLLATE "C";

SELECT 'function ' || p.oid::regprocedure::text || ' def|' || l.line
  FROM fp_member AS m JOIN pg_catalog.pg_proc AS p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid,
       LATERAL pg_catalog.regexp_split_to_table(pg_catalog.pg_get_functiondef(p.oid), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE p.prokind <> 'a'
 ORDER BY p.oid::regprocedure::text COLLATE "C", l.n;

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'function ' || p.oid::regprocedure::text || ' aggregate kind ' || a.aggkind::text
       || ' transfn ' || a.aggtransfn::regprocedure::text || ' finalfn ' || a.aggfinalfn::text
       || ' combinefn ' || a.aggcombinefn::text || ' stype ' || pg_catalog.format_type(a.aggtranstype, NULL)
       || ' initval ' || COALESCE(pg_catalog.quote_literal(a.agginitval), '<null>')
       || ' result ' || pg_catalog.format_type(p.prorettype, NULL) || ' strict ' || p.proisstrict AS line
  FROM fp_member AS m JOIN pg_catalog.pg_proc AS p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid
  JOIN pg_catalog.pg_aggregate AS a ON a.aggfnoid = p.oid
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- Relations: kind, owner, access method, persistence, options, partitioning, replica identity, TOAST table
-- present, row-level security.
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'relation ' || c.oid::regclass::text || ' kind ' || k.name || ' owner ' || pg_catalog.pg_get_userbyid(c.relowner)
       || ' persistence ' || c.relpersistence::text
       || ' am ' || COALESCE((SELECT a.amname::text FROM pg_catalog.pg_am AS a WHERE a.oid = c.relam), '-')
       || ' options ' || COALESCE((SELECT pg_catalog.string_agg(o, ',' ORDER BY o COLLATE "C")
                                     FROM pg_catalog.unnest(c.reloptions) AS o), '-')
       || ' replident ' || c.relreplident::text || ' toast ' || (c.reltoastrelid <> 0)
       || ' populated ' || c.relispopulated AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) JOIN fp_kind AS k ON k.relkind = c.relkind::text
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'relation ' || c.oid::regclass::text || ' row level security ' || c.relrowsecurity
       || ' forced ' || c.relforcerowsecurity AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) WHERE c.relkind IN ('r', 'p', 'f', 'm')
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'relation ' || c.oid::regclass::text || ' partition key ' || pg_catalog.pg_get_partkeydef(c.oid) AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) WHERE c.relkind = 'p'
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'relation ' || c.oid::regclass::text || ' inherits ' || i.inhparent::regclass::text || ' #' || i.inhseqno
       || CASE WHEN c.relispartition THEN ' partition ' || pg_catalog.pg_get_expr(c.relpartbound, c.oid) ELSE '' END AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = c.oid
) AS fact ORDER BY line COLLATE "C";

-- Columns, by position among the live columns.
SELECT 'column ' || c.oid::regclass::text || '.' || pg_catalog.quote_ident(a.attname) || ' #' || a.pos
       || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
       || CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END
       || COALESCE(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
       || COALESCE(' collate ' || (SELECT pg_catalog.quote_ident(co.collname) FROM pg_catalog.pg_collation AS co
                                    WHERE co.oid = a.attcollation), '')
       || ' storage ' || a.attstorage::text
       || CASE WHEN a.attcompression <> '' THEN ' compression ' || a.attcompression::text ELSE '' END
       || CASE WHEN a.attstattarget <> -1 THEN ' statistics ' || a.attstattarget ELSE '' END
       || COALESCE(' options ' || (SELECT pg_catalog.string_agg(o, ',' ORDER BY o COLLATE "C")
                                     FROM pg_catalog.unnest(a.attoptions) AS o WHERE o NOT LIKE 'pg\_attver=%'), '')
       || ' local ' || a.attislocal || ' inherited ' || a.attinhcount
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid)
  JOIN (SELECT x.*, pg_catalog.row_number() OVER (PARTITION BY x.attrelid ORDER BY x.attnum) AS pos
          FROM pg_catalog.pg_attribute AS x WHERE x.attnum > 0 AND NOT x.attisdropped) AS a ON a.attrelid = c.oid
  LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 ORDER BY c.oid::regclass::text COLLATE "C", a.pos;

-- Views, line by line, in order.
SELECT 'view ' || c.oid::regclass::text || ' def|' || l.line
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid),
       LATERAL pg_catalog.regexp_split_to_table(pg_catalog.pg_get_viewdef(c.oid), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE c.relkind IN ('v', 'm')
 ORDER BY c.oid::regclass::text COLLATE "C", l.n;

-- Sequences: parameters, and the column that owns one (OWNED BY or identity).
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'sequence ' || s.seqrelid::regclass::text || ' type ' || pg_catalog.format_type(s.seqtypid, NULL)
       || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
       || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle
       || COALESCE((SELECT ' owned by ' || d.refobjid::regclass::text || '.'
                           || (SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute AS a
                                WHERE a.attrelid = d.refobjid AND a.attnum = d.refobjsubid)
                           || ' (' || d.deptype::text || ')'
                      FROM pg_catalog.pg_depend AS d
                     WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = s.seqrelid
                       AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
                       AND d.deptype IN ('a', 'i')), '') AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = r.oid
) AS fact ORDER BY line COLLATE "C";

-- Indexes of member relations: the definition (with name, method, columns, predicate, options) and flags.
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'index ' || i.indexrelid::regclass::text || ' on ' || i.indrelid::regclass::text || ': '
       || pg_catalog.pg_get_indexdef(i.indexrelid)
       || ' primary ' || i.indisprimary || ' unique ' || i.indisunique || ' nulls distinct ' || (NOT i.indnullsnotdistinct)
       || ' immediate ' || i.indimmediate || ' clustered ' || i.indisclustered || ' valid ' || i.indisvalid
       || ' ready ' || i.indisready || ' live ' || i.indislive || ' replident ' || i.indisreplident
       || ' owner ' || pg_catalog.pg_get_userbyid(ic.relowner) AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_index AS i ON i.indrelid = r.oid
  JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
) AS fact ORDER BY line COLLATE "C";

-- Constraints of member relations and member types.
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'constraint ' || CASE WHEN c.conrelid <> 0 THEN c.conrelid::regclass::text
                             ELSE 'type ' || pg_catalog.format_type(c.contypid, NULL) END
       || ' ' || pg_catalog.quote_ident(c.conname) || ' type ' || c.contype::text || ': '
       || pg_catalog.pg_get_constraintdef(c.oid)
       || ' validated ' || c.convalidated || ' local ' || c.conislocal || ' inherited ' || c.coninhcount
       || CASE WHEN c.conindid <> 0 THEN ' index ' || c.conindid::regclass::text ELSE '' END
       || CASE WHEN c.conparentid <> 0 THEN ' parent ' || (SELECT pg_catalog.quote_ident(pc.conname) || ' on '
                                                                  || pc.conrelid::regclass::text
                                                             FROM pg_catalog.pg_constraint AS pc WHERE pc.oid = c.conparentid)
               ELSE '' END AS line
  FROM fp_obj AS o JOIN pg_catalog.pg_constraint AS c ON o.classid = 'pg_catalog.pg_constraint'::regclass AND c.oid = o.objid
) AS fact ORDER BY line COLLATE "C";

-- Triggers of member relations with their enabled state (O origin, D disabled, R replica, A always);
-- internal ones (foreign keys) by their constraint.
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'trigger ' || t.tgrelid::regclass::text || ' '
       || CASE WHEN t.tgisinternal
               THEN 'internal for constraint ' || COALESCE((SELECT pg_catalog.quote_ident(c.conname) FROM pg_catalog.pg_constraint AS c
                                                             WHERE c.oid = t.tgconstraint), '-')
                    || ' function ' || t.tgfoid::regprocedure::text || ' type ' || t.tgtype
                    || ' deferrable ' || t.tgdeferrable || ' deferred ' || t.tginitdeferred
               ELSE pg_catalog.quote_ident(t.tgname) || ': ' || pg_catalog.pg_get_triggerdef(t.oid) END
       || ' enabled ' || t.tgenabled::text
       || CASE WHEN t.tgparentid <> 0 THEN ' cloned from ' || (SELECT pt.tgrelid::regclass::text FROM pg_catalog.pg_trigger AS pt
                                                                 WHERE pt.oid = t.tgparentid)
               ELSE '' END AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_trigger AS t ON t.tgrelid = r.oid
) AS fact ORDER BY line COLLATE "C";

-- Row-level security policies.
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'policy ' || p.polrelid::regclass::text || ' ' || pg_catalog.quote_ident(p.polname)
       || ' for ' || CASE p.polcmd WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                   WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END
       || CASE WHEN p.polpermissive THEN ' permissive' ELSE ' restrictive' END
       || ' to ' || (SELECT pg_catalog.string_agg(ro.name, ',' ORDER BY ro.name COLLATE "C")
                       FROM pg_catalog.unnest(p.polroles) AS pr(oid) JOIN fp_role AS ro USING (oid))
       || ' using ' || COALESCE(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '-')
       || ' with check ' || COALESCE(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '-') AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_policy AS p ON p.polrelid = r.oid
) AS fact ORDER BY line COLLATE "C";

-- Rules other than a view's own, and extended statistics.
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'rule ' || w.ev_class::regclass::text || ' ' || pg_catalog.quote_ident(w.rulename) || ' enabled ' || w.ev_enabled::text
       || ': ' || pg_catalog.replace(pg_catalog.pg_get_ruledef(w.oid), E'\n', ' ') AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_rewrite AS w ON w.ev_class = r.oid
 WHERE w.rulename <> '_RETURN'
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'statistics ' || pg_catalog.pg_get_statisticsobjdef(s.oid) || ' target ' || s.stxstattarget AS line
  FROM fp_rel AS r JOIN pg_catalog.pg_statistic_ext AS s ON s.stxrelid = r.oid
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- Types (their columns, for composite types, are printed with the relations).
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'type ' || pg_catalog.format_type(t.oid, NULL) || ' typtype ' || t.typtype::text
       || ' owner ' || pg_catalog.pg_get_userbyid(t.typowner)
       || CASE WHEN t.typtype = 'd' THEN ' base ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
                                         || ' not null ' || t.typnotnull || ' default ' || COALESCE(t.typdefault, '-')
               ELSE '' END
       || CASE WHEN t.typtype = 'e' THEN ' labels ' || (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ','
                                                                                   ORDER BY e.enumsortorder)
                                                          FROM pg_catalog.pg_enum AS e WHERE e.enumtypid = t.oid)
               ELSE '' END
       || CASE WHEN t.typtype = 'r' THEN ' subtype ' || (SELECT pg_catalog.format_type(g.rngsubtype, NULL)
                                                           FROM pg_catalog.pg_range AS g WHERE g.rngtypid = t.oid)
               ELSE '' END AS line
  FROM fp_member AS m JOIN pg_catalog.pg_type AS t ON m.classid = 'pg_catalog.pg_type'::regclass AND t.oid = m.objid
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- Privileges: the effective ACL of the schema, every member relation, column, function and type, one line per
-- grantee and privilege, with role names; then the initial privileges recorded for the extension's objects.
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
WITH acl AS (
    SELECT 'schema ' || n.nspname::text AS what, COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner)) AS acl
      FROM pg_catalog.pg_namespace AS n JOIN fp_ext ON n.oid = fp_ext.extnamespace
    UNION ALL
    SELECT k.name || ' ' || c.oid::regclass::text,
           COALESCE(c.relacl, pg_catalog.acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))
      FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) JOIN fp_kind AS k ON k.relkind = c.relkind::text
     WHERE c.relkind <> 'c'
    UNION ALL
    SELECT 'column ' || a.attrelid::regclass::text || '.' || pg_catalog.quote_ident(a.attname), a.attacl
      FROM fp_rel AS r JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.oid
     WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text, COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))
      FROM fp_member AS m JOIN pg_catalog.pg_proc AS p ON m.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = m.objid
    UNION ALL
    SELECT 'type ' || pg_catalog.format_type(t.oid, NULL), COALESCE(t.typacl, pg_catalog.acldefault('T', t.typowner))
      FROM fp_member AS m JOIN pg_catalog.pg_type AS t ON m.classid = 'pg_catalog.pg_type'::regclass AND t.oid = m.objid
)
SELECT 'grant ' || acl.what || ' to ' || ge.name || ' ' || x.privilege_type
       || CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END || ' by ' || gr.name AS line
  FROM acl, LATERAL pg_catalog.aclexplode(acl.acl) AS x
  JOIN fp_role AS ge ON ge.oid = x.grantee JOIN fp_role AS gr ON gr.oid = x.grantor
) AS fact ORDER BY line COLLATE "C";

SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'initial privileges ' || o.type || ' ' || o.identity || ' (' || i.privtype::text || ') to ' || ge.name || ' '
       || x.privilege_type || CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END || ' by ' || gr.name AS line
  FROM pg_catalog.pg_init_privs AS i
  JOIN fp_obj AS ob ON ob.classid = i.classoid AND ob.objid = i.objoid,
       LATERAL pg_catalog.pg_identify_object(i.classoid, i.objoid, i.objsubid) AS o,
       LATERAL pg_catalog.aclexplode(i.initprivs) AS x
  JOIN fp_role AS ge ON ge.oid = x.grantee JOIN fp_role AS gr ON gr.oid = x.grantor
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- Comments on every owned object and its columns.
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'comment ' || o.type || ' ' || o.identity || ': '
       || d.description AS line
  FROM pg_catalog.pg_description AS d
  JOIN fp_obj AS ob ON ob.classid = d.classoid AND ob.objid = d.objoid,
       LATERAL pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) AS o
) AS fact ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------------------------
-- Rows each member table holds after the install (an install that leaves rows in one path only differs).
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.format('SELECT %L || pg_catalog.count(*) FROM ONLY %s', 'rows ' || c.oid::regclass::text || ' ', c.oid::regclass)
  FROM fp_rel AS r JOIN pg_catalog.pg_class AS c USING (oid) WHERE c.relkind = 'r'
 ORDER BY c.oid::regclass::text COLLATE "C" \gexec

-- ---------------------------------------------------------------------------------------------------------
-- Anything else in the schema: relations, functions and types that are neither owned as above nor implicit
-- (row and array types of owned relations and types, TOAST), nor run-time partitions of the ledger (monthly
-- partitions of a member table that are not members, with their indexes). A fresh install has none.
-- ---------------------------------------------------------------------------------------------------------
SELECT pg_catalog.replace(pg_catalog.replace(line, E'\\', E'\\\\'), E'\n', E'\\n') FROM (
SELECT 'not owned ' || o.type || ' ' || o.identity AS line
  FROM (SELECT 'pg_catalog.pg_class'::regclass AS classid, c.oid AS objid FROM pg_catalog.pg_class AS c, fp_ext
         WHERE c.relnamespace = fp_ext.extnamespace
           AND c.oid NOT IN (SELECT objid FROM fp_obj WHERE classid = 'pg_catalog.pg_class'::regclass)
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits AS i JOIN fp_rel AS r ON r.oid = i.inhparent
                            WHERE i.inhrelid = c.oid AND c.relispartition)
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_index AS x JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = x.indrelid
                             JOIN fp_rel AS r ON r.oid = i.inhparent WHERE x.indexrelid = c.oid)
        UNION ALL
        SELECT 'pg_catalog.pg_proc'::regclass, p.oid FROM pg_catalog.pg_proc AS p, fp_ext
         WHERE p.pronamespace = fp_ext.extnamespace
           AND p.oid NOT IN (SELECT objid FROM fp_member WHERE classid = 'pg_catalog.pg_proc'::regclass)
        UNION ALL
        SELECT 'pg_catalog.pg_type'::regclass, t.oid FROM pg_catalog.pg_type AS t, fp_ext
         WHERE t.typnamespace = fp_ext.extnamespace
           AND t.oid NOT IN (SELECT objid FROM fp_member WHERE classid = 'pg_catalog.pg_type'::regclass)
           AND t.typrelid = 0
           AND NOT (t.typcategory = 'A' AND t.typelem IN (SELECT tt.oid FROM pg_catalog.pg_type AS tt
                                                            WHERE tt.typnamespace = fp_ext.extnamespace))) AS x,
       LATERAL pg_catalog.pg_identify_object(x.classid, x.objid, 0) AS o
) AS fact ORDER BY line COLLATE "C";
