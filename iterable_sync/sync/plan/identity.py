"""Which user identifier a row of each sync type is matched on, and the rows that cannot
name their user (quarantined before sending). Split from ``shapes.py``, which holds the
rest of what differs by sync type."""

from iterable_sync.sync.config import (
    DeletionAction,
    DeletionsSync,
    Match,
    Mode,
    SyncConfig,
    SyncType,
)
from iterable_sync.sync.plan import rules


def identity_cases(sync: SyncConfig, project_type: str) -> list[tuple[str, str]]:
    """(predicate over a record's EMAIL and USER_ID, reason): rows that cannot name their
    user are quarantined before sending."""
    if sync.type is SyncType.USERS:
        return _users_identity_cases(sync, project_type)
    match = sync.resolve_match(project_type)
    if match is None:
        return []
    _check_project_type(sync, match, project_type)
    column = "EMAIL" if match is Match.EMAIL else "USER_ID"
    cases = [(f"{column} IS NULL", f"missing {match.value}")]
    if match is Match.EMAIL:
        cases.append((f"NOT {rules.is_email('EMAIL')}", "malformed email"))
    elif project_type == "userId":
        limit = rules.MAX_USER_ID_LENGTH
        cases.append((f"LENGTH(USER_ID) > {limit}", f"userId longer than {limit} characters"))
    return cases


def _users_identity_cases(sync: SyncConfig, project_type: str) -> list[tuple[str, str]]:
    mode, match = getattr(sync, "mode", Mode.UPDATE), sync.match or Match.EMAIL
    column = "EMAIL" if match is Match.EMAIL else "USER_ID"
    cases = [(f"{column} IS NULL", f"missing {match.value}")]
    # Update mode matched by userId in an email-based project sends the userId alone (see
    # users.UsersDestination.user_id_only): the email is never sent, its shape is moot.
    user_id_only = mode is Mode.UPDATE and match is Match.USER_ID and project_type == "email"
    if not user_id_only:
        cases.append((f"EMAIL IS NOT NULL AND NOT {rules.is_email('EMAIL')}", "malformed email"))
    if project_type == "userId":
        cases.append(("LENGTH(USER_ID) > 52", "userId longer than 52 characters"))
    # Upsert matched by userId in an email-based project needs no email: preferUserId
    # creates the user with a @placeholder.email address (support article 29156459027348).
    return cases


def _check_project_type(sync: SyncConfig, match: Match, project_type: str) -> None:
    """Combinations Iterable refuses for every row are a configuration error, not dirt."""
    if not isinstance(sync, DeletionsSync):
        return
    if sync.action is DeletionAction.DELETE and project_type == "userId" and match is Match.EMAIL:
        problem = "a userID-based project deletes users by userId"
    elif sync.capped and project_type == "email" and match is Match.USER_ID:
        problem = f"an email-based project must {sync.action.value} users by email"
    elif sync.capped and project_type == "userId" and match is Match.EMAIL:
        problem = f"a userID-based project must {sync.action.value} users by userId"
    else:
        return
    raise ValueError(f"sync {sync.name!r}: {problem}; set match (and identifiers) accordingly")
