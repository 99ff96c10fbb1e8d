-- One "namespaceCreated" event per namespace of an active recent contact, from the
-- contact's NAMESPACES_ARRAY (personal namespace, group, subgroup).
-- The array is unrolled by position (GET on a small list of positions) rather than by
-- LATERAL FLATTEN, which sqlglot does not translate to DuckDB.
WITH contacts AS (
  SELECT *
  FROM ITERABLE_SYNC.CONTACT_NAMESPACE
  WHERE GITLAB_DOTCOM_ACTIVE_STATE = 'active'
  -- The source repeats a contact when a join fans out: keep its latest row.
  QUALIFY ROW_NUMBER() OVER (PARTITION BY CONTACT_ID ORDER BY UPDATED_AT DESC) = 1
),
positions AS (
  SELECT 0 AS POSITION UNION ALL SELECT 1 UNION ALL SELECT 2
  UNION ALL SELECT 3 UNION ALL SELECT 4
),
namespaces AS (
  SELECT
    c.CONTACT_ID,
    c.EMAIL,
    c.GITLAB_USER_ID,
    p.POSITION,
    TO_JSON(GET(c.NAMESPACES_ARRAY, p.POSITION)) AS NAMESPACE
  FROM contacts c
  JOIN positions p ON p.POSITION < c.NAMESPACE_COUNT
)
SELECT
  JSON_EXTRACT_PATH_TEXT(NAMESPACE, 'namespace_id') AS NAMESPACE_ID,
  CONTACT_ID,
  EMAIL,
  GITLAB_USER_ID,
  JSON_EXTRACT_PATH_TEXT(NAMESPACE, 'path') AS NAMESPACE_PATH,
  JSON_EXTRACT_PATH_TEXT(NAMESPACE, 'plan') AS NAMESPACE_PLAN,
  TRY_CAST(JSON_EXTRACT_PATH_TEXT(NAMESPACE, 'member_count') AS BIGINT) AS MEMBER_COUNT,
  CASE WHEN POSITION = 0 THEN 'personal' ELSE 'group' END AS NAMESPACE_KIND,
  JSON_EXTRACT_PATH_TEXT(NAMESPACE, 'created_at') AS NAMESPACE_CREATED_AT
FROM namespaces
