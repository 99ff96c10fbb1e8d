-- One purchase per contact on a paid plan: the plan's seats, at the plan's list price.
WITH paid AS (
  SELECT
    *,
    CASE PLAN WHEN 'premium' THEN 29 WHEN 'ultimate' THEN 99 END AS SEAT_PRICE,
    CASE PLAN WHEN 'premium' THEN 'GitLab Premium' ELSE 'GitLab Ultimate' END AS PLAN_NAME
  FROM ITERABLE_SYNC.CONTACT_NAMESPACE
  WHERE PLAN IN ('premium', 'ultimate')
    AND GITLAB_DOTCOM_ACTIVE_STATE = 'active'
    AND SEAT_COUNT > 0
    AND REGEXP_LIKE(TRIM(EMAIL), '^[^@ ]+@[^@ ]+[.][^@ ]+$')
  QUALIFY ROW_NUMBER() OVER (PARTITION BY CONTACT_ID ORDER BY UPDATED_AT DESC) = 1
)
SELECT
  CONTACT_ID,
  TRIM(EMAIL) AS EMAIL,
  GITLAB_USER_ID,
  PARSE_JSON(TO_JSON(ARRAY_CONSTRUCT(OBJECT_CONSTRUCT(
    'id', 'plan-' || PLAN,
    'sku', PLAN,
    'name', PLAN_NAME,
    'price', SEAT_PRICE,
    'quantity', SEAT_COUNT,
    'categories', ARRAY_CONSTRUCT('subscription')
  )))) AS ITEMS,
  CAST(SEAT_PRICE * SEAT_COUNT AS DOUBLE) AS TOTAL,
  GITLAB_DOTCOM_CREATED_DATE AS PURCHASED_AT,
  COMPANY_NAME
FROM paid
