"""Static lists: create, read, delete, subscribe, unsubscribe, export members."""

from __future__ import annotations

from typing import Any

from iterable_sync.emulator.identity import Failure
from iterable_sync.emulator.project import Project, now_ms
from iterable_sync.emulator.responses import ApiError, bad_params
from iterable_sync.emulator.userbatch import BatchResult, UserBatch, UserInput, write_users
from iterable_sync.emulator.users import MAX_BATCH


def create_list(project: Project, body: dict[str, Any]) -> dict[str, int]:
    with project.store.tx() as conn:
        cursor = conn.execute(
            "INSERT INTO lists(name, description, created_ms, list_type) VALUES(?, ?, ?, ?)",
            (body["name"], body.get("description"), now_ms(), "Standard"),
        )
    return {"listId": int(cursor.lastrowid or 0)}


def get_lists(project: Project) -> dict[str, Any]:
    with project.store.read() as conn:
        rows = conn.execute(
            "SELECT id, name, description, created_ms, list_type FROM lists ORDER BY id DESC"
        ).fetchall()
    lists = []
    for list_id, name, description, created, list_type in rows:
        item: dict[str, Any] = {
            "id": list_id,
            "name": name,
            "createdAt": created,
            "listType": list_type,
        }
        if description:
            item["description"] = description
        lists.append(item)
    return {"lists": lists}


def _require_list(project: Project, list_id: int) -> None:
    found = None
    if 0 < list_id < 2**63:  # SQLite integers are 64-bit
        found = project.store.conn.execute("SELECT 1 FROM lists WHERE id=?", (list_id,)).fetchone()
    if found is None:
        # Clients (block/iterable-go) look for this token in msg.
        raise bad_params(f"error.lists.invalidListId: list {list_id} does not exist")


def delete_list(project: Project, list_id: int) -> str:
    pid = project.config.project_id
    with project.store.tx() as conn:
        if (
            not 0 < list_id < 2**63
            or conn.execute("DELETE FROM lists WHERE id=?", (list_id,)).rowcount == 0
        ):
            raise bad_params(
                f"Unable to delete list {list_id} in Project {pid}, which does not exist."
            )
        conn.execute("DELETE FROM list_members WHERE list_id=?", (list_id,))
    return f"List {list_id} in Project {pid} was successfully deleted."


def _list_body(result: BatchResult) -> dict[str, Any]:
    failed = result.failed()
    return {
        "successCount": result.success_count,
        "failCount": result.fail_count,
        "invalidEmails": failed["invalidEmails"],
        "invalidUserIds": failed["invalidUserIds"],
        "createdFields": result.created_fields,
        "filteredOutFields": result.filtered_fields,
        "failedUpdates": failed,
    }


def _check_size(subscribers: list[Any]) -> None:
    if len(subscribers) > MAX_BATCH:
        raise ApiError(
            400,
            "BatchTooLarge",
            f"Batch of {len(subscribers)} subscribers exceeds the maximum of {MAX_BATCH}",
        )


def subscribe(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    list_id = int(body["listId"])
    subscribers = body["subscribers"]
    _check_size(subscribers)
    store = project.store

    def add_members(result: BatchResult) -> None:
        store.conn.executemany(
            "INSERT OR IGNORE INTO list_members VALUES(?, ?)",
            [(list_id, row.id) for row in result.rows if row is not None],
        )

    # updateExistingUsersOnly is only respected in userID-based and hybrid projects.
    update_only = bool(body.get("updateExistingUsersOnly")) and project.project_type != "email"
    with store.lock:
        with store.read():
            _require_list(project, list_id)
        result = write_users(
            project,
            [UserInput.from_body(s) for s in subscribers],
            allow_create=not update_only,
            after=add_members,
        )
    return _list_body(result)


def unsubscribe(project: Project, body: dict[str, Any]) -> dict[str, Any]:
    list_id = int(body["listId"])
    subscribers = body["subscribers"]
    _check_size(subscribers)
    inputs = [UserInput.from_body(s) for s in subscribers]
    result = BatchResult()
    store = project.store
    with store.lock, store.tx() as conn:
        _require_list(project, list_id)
        batch = UserBatch(project, allow_create=False)
        batch.prefetch(inputs)
        gone = []
        for user in inputs:
            outcome = batch.resolve(user)  # nothing is flushed: lookups only
            if not isinstance(outcome, Failure):
                member = conn.execute(
                    "SELECT 1 FROM list_members WHERE list_id=? AND user_row=?",
                    (list_id, outcome.id),
                ).fetchone()
                if member is None:
                    outcome = (
                        Failure("notFoundEmails", user.email)
                        if user.email
                        else Failure("notFoundUserIds", user.user_id or "")
                    )
            if isinstance(outcome, Failure):
                result.failures.append(outcome)
                continue
            gone.append((list_id, outcome.id))
            result.success_count += 1
        conn.executemany("DELETE FROM list_members WHERE list_id=? AND user_row=?", gone)
    return _list_body(result)


def list_users(project: Project, list_id: int, prefer_user_id: bool) -> str:
    """Members, one per line: emails, or userIds in userID-based projects (or on request)."""
    by_uid = project.project_type == "userId" or (
        prefer_user_id and project.project_type == "hybrid"
    )
    column = "u.user_id" if by_uid else "u.email"
    with project.store.read() as conn:
        _require_list(project, list_id)
        rows = conn.execute(
            f"SELECT {column} FROM list_members m JOIN users u ON u.id = m.user_row "
            f"WHERE m.list_id=? AND {column} IS NOT NULL ORDER BY u.id",
            (list_id,),
        ).fetchall()
    return "".join(f"{r[0]}\n" for r in rows)


def list_size(project: Project, list_id: int) -> str:
    with project.store.read() as conn:
        _require_list(project, list_id)
        count = conn.execute(
            "SELECT COUNT(*) FROM list_members WHERE list_id=?", (list_id,)
        ).fetchone()[0]
    return str(count)
