-- Contacts deactivated within two days of signing up (a handful a day): their data is
-- forgotten in Iterable (GDPR), once per contact.
SELECT
  CONTACT_ID,
  TRIM(EMAIL) AS EMAIL,
  GITLAB_USER_ID
FROM ITERABLE_SYNC.CONTACT_NAMESPACE
WHERE GITLAB_DOTCOM_ACTIVE_STATE = 'deactivated'
  AND GITLAB_DOTCOM_CREATED_DATE > DATEADD(DAY, -2, GETDATE())
  AND REGEXP_LIKE(TRIM(EMAIL), '^[^@ ]+@[^@ ]+[.][^@ ]+$')
QUALIFY ROW_NUMBER() OVER (PARTITION BY CONTACT_ID ORDER BY UPDATED_AT DESC) = 1
