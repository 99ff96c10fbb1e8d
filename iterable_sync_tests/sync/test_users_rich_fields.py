"""Users in upsert mode with rich fields: arrays of objects, new fields typed as Iterable
infers them, and a cast that pins a type."""

from iterable_sync_tests.fixtures.contacts import contact, create_contacts
from iterable_sync_tests.sync.harness import Harness, make_sync


def test_upsert_sends_json_arrays_of_objects_and_creates_typed_fields(warehouse, shared_emulator):
    rows = [contact(i) for i in range(20)]
    rows[4]["NAMESPACES_ARRAY"] = [
        {"namespace_id": 4, "path": "me", "plan": "free", "member_count": 1},
        {"namespace_id": 40, "path": "acme", "plan": "ultimate", "member_count": 250},
    ]
    with warehouse.session() as session:
        create_contacts(session, rows)
    sync = make_sync(
        mapping=[
            {"column": "NAMESPACES_ARRAY", "field": "namespaces", "cast": "json"},
            {"column": "SEAT_COUNT", "field": "seats"},
            # Text that holds numbers, pinned to a number field.
            {"column": "COMPANY_SIZE", "field": "companySize", "cast": "long"},
            {"column": "GITLAB_DOTCOM_CREATED_DATE", "field": "createdOnGitlab"},
        ]
    )
    harness = Harness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    meta = harness.sync_metadata(harness.run(), sync)
    assert (meta["accepted"], meta["quarantined"]) == (20, 0)

    user = harness.user("user.4@example.com")["dataFields"]
    assert [ns["path"] for ns in user["namespaces"]] == ["me", "acme"]
    assert user["namespaces"][1] == {
        "namespace_id": 40, "path": "acme", "plan": "ultimate", "member_count": 250
    }  # fmt: skip
    assert user["companySize"] == 250
    fields = shared_emulator.admin.state()["fields"]
    # Created with the type of their first value: an array of objects is an object field
    # whose keys are typed one by one; a cast's type where a cast pins one.
    assert fields["namespaces"] == "object"
    assert fields["namespaces.path"] == "string"
    assert fields["namespaces.member_count"] == "long"
    assert fields["companySize"] == "long"
    assert fields["seats"] == "long"
    assert fields["createdOnGitlab"] == "date"


def test_a_user_leaving_the_model_keeps_its_profile_and_is_not_counted_as_sent(
    warehouse, shared_emulator
):
    sync = make_sync(mapping=[{"column": "SEAT_COUNT", "field": "seats"}])
    harness = Harness(warehouse=warehouse, emulator=shared_emulator, sync=sync)
    with warehouse.session() as session:
        create_contacts(session, [contact(i) for i in range(3)])
    assert harness.sync_metadata(harness.run(), sync)["accepted"] == 3
    before = max((int(c["seq"]) for c in shared_emulator.admin.calls(limit=100_000)), default=0)

    with warehouse.session() as session:
        create_contacts(session, [contact(0), contact(1)])
    meta = harness.sync_metadata(harness.run(), sync)
    # Nothing to call for a contact who left: not a send, and its profile stays.
    assert (meta["removed"], meta["sent"], meta["accepted"], meta["write_calls"]) == (1, 0, 0, 0)
    assert harness.write_calls(since=before) == []
    assert harness.user("user.2@example.com")["dataFields"]["seats"] == contact(2)["SEAT_COUNT"]
