-- Contacts whose address carries a +tag: their Iterable email becomes the address without
-- it (first.last+news@example.com -> first.last@example.com), matched by GitLab user id.
SELECT
  CONTACT_ID,
  GITLAB_USER_ID,
  TRIM(EMAIL) AS EMAIL,
  LOWER(REGEXP_REPLACE(TRIM(EMAIL), '[+][^@]*@', '@')) AS CANONICAL_EMAIL
FROM ITERABLE_SYNC.CONTACT_NAMESPACE
WHERE GITLAB_DOTCOM_ACTIVE_STATE = 'active'
  AND GITLAB_USER_ID IS NOT NULL
  AND REGEXP_LIKE(TRIM(EMAIL), '^[^@ +]+[+][^@ ]*@[^@ ]+[.][^@ ]+$')
QUALIFY ROW_NUMBER() OVER (PARTITION BY CONTACT_ID ORDER BY UPDATED_AT DESC) = 1
