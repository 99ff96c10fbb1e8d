-- The catalog of GitLab plans, with how many recent contacts are on each.
SELECT
  'plan-' || PLAN AS PLAN_ID,
  CASE PLAN
    WHEN 'premium' THEN 'GitLab Premium' WHEN 'ultimate' THEN 'GitLab Ultimate' ELSE 'GitLab Free'
  END AS PLAN_NAME,
  CASE PLAN WHEN 'premium' THEN 29 WHEN 'ultimate' THEN 99 ELSE 0 END AS SEAT_PRICE,
  COUNT(DISTINCT CONTACT_ID) AS RECENT_CONTACTS
FROM ITERABLE_SYNC.CONTACT_NAMESPACE
WHERE PLAN IS NOT NULL
GROUP BY PLAN
