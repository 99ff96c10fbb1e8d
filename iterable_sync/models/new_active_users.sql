-- Contacts who signed up in the past week and are active: the "New active users" list.
-- A contact leaves the list as its sign-up ages past a week.
SELECT
  CONTACT_ID,
  TRIM(EMAIL) AS EMAIL,
  GITLAB_USER_ID,
  FIRST_NAME,
  PLAN,
  NAMESPACES_ARRAY,
  NAMESPACE_COUNT
FROM ITERABLE_SYNC.CONTACT_NAMESPACE
WHERE GITLAB_DOTCOM_ACTIVE_STATE = 'active'
  AND GITLAB_DOTCOM_CREATED_DATE > DATEADD(DAY, -7, GETDATE())
  AND REGEXP_LIKE(TRIM(EMAIL), '^[^@ ]+@[^@ ]+[.][^@ ]+$')
QUALIFY ROW_NUMBER() OVER (PARTITION BY CONTACT_ID ORDER BY UPDATED_AT DESC) = 1
