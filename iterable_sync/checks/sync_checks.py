"""Blocking asset checks on a sync's records, evaluated in the warehouse before any send.

Each check counts the rows a rule catches. Those rows are quarantined (kept out of the
diff, written to ROW_ERRORS by the send) so the rest still syncs: a little dirt is a
warning. Past the sync's tolerance the check fails with ERROR severity, which blocks the
send in the same run — a broken model (a join that multiplies rows, a lost identifier
column, an upstream type change) never reaches Iterable.
"""

from dataclasses import dataclass

import dagster as dg

from iterable_sync.checks import identity
from iterable_sync.metadata import markdown_table
from iterable_sync.sync.config import Budget, DuplicatePolicy, SyncConfig, SyncType
from iterable_sync.sync.plan import budget as budget_ledger
from iterable_sync.sync.plan import rules, verdicts
from iterable_sync.sync.plan.collisions import applies as applies_to_identity
from iterable_sync.warehouse import WarehouseSession

PRIMARY_KEY_UNIQUE = rules.PRIMARY_KEY_UNIQUE
IDENTIFIERS_VALID = rules.IDENTIFIERS_VALID
VALUES_FIT_TYPES = rules.VALUES_FIT_TYPES
QUERIED_RECORDS_BUDGET = "queried_records_budget"

#: The check that counts the rows each sync type refuses for its own reasons (shapes.py).
TYPE_CHECKS: dict[SyncType, tuple[str, str]] = {
    SyncType.EVENTS: (
        rules.EVENT_ROWS_COMPLETE,
        "Each event has a name, an id of at most 512 bytes and a readable time (or none).",
    ),
    SyncType.PURCHASES: (
        rules.PURCHASE_ROWS_COMPLETE,
        "Each purchase has items (a non-empty JSON array) and a numeric total; a row "
        "without them is quarantined, never sent.",
    ),
    SyncType.CARTS: (
        rules.CART_ROWS_COMPLETE,
        "Each cart has items (a non-empty JSON array).",
    ),
    SyncType.CATALOG: (
        rules.CATALOG_IDS_VALID,
        "Each item id (the primary key) is letters, digits and dashes, at most 255.",
    ),
    SyncType.EMAIL_UPDATES: (
        rules.NEW_EMAIL_VALID,
        "Each row has a well-formed new email.",
    ),
    SyncType.SUBSCRIPTIONS: (
        rules.SUBSCRIPTION_VALUES_VALID,
        "Each subscription column holds true, false or null.",
    ),
}

SAMPLE_ROWS = 10


def check_specs(sync: SyncConfig, asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The checks that apply to the sync's type: identifiers only where rows name users,
    values only where the type sends fields, plus the type's own completeness rule."""
    t = sync.tolerances

    def spec(name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(name, asset=asset_key, blocking=True, description=description)

    specs = [spec(PRIMARY_KEY_UNIQUE, f"{sync.primary_key} is unique; {duplicates_rule(sync)}")]
    if sync.has_users:
        match = sync.match.value if sync.match else "email or userId (per project type)"
        specs.append(
            spec(
                IDENTIFIERS_VALID,
                f"The {match} to match on is present and well formed. "
                f"Blocks above {t.missing_identifiers:.0%}.",
            )
        )
    if applies_to_identity(sync):
        specs.append(identity.check_spec(sync, asset_key))
    if sync.FIELDS_OF is not None:
        specs.append(
            spec(
                VALUES_FIT_TYPES,
                "Each mapped value fits its Iterable field type (existing fields from "
                "getFields, new ones as Iterable would infer them). "
                f"Blocks above {t.invalid_values:.0%}.",
            )
        )
    if sync.type in TYPE_CHECKS:
        name, description = TYPE_CHECKS[sync.type]
        specs.append(spec(name, f"{description} Blocks above {t.invalid_values:.0%}."))
    specs.append(
        spec(
            QUERIED_RECORDS_BUDGET,
            "Records queried this billing period (each counted once, across runs "
            "and syncs) stay within the budget: warns past the warning share, blocks past it.",
        )
    )
    return specs


def duplicates_rule(sync: SyncConfig) -> str:
    """What the sync does with a duplicated key (syncs.yaml ``duplicates``), in words."""
    rule, limit = sync.duplicates, f"{sync.tolerances.duplicate_keys:.0%}"
    if rule.policy is DuplicatePolicy.BLOCK:
        return "any duplicated key blocks the sync (duplicates: block)."
    if rule.policy is DuplicatePolicy.DROP_ALL:
        return (
            "every copy of a duplicated key is dropped, as Iterable's importer does "
            f"(duplicates: drop_all). Blocks above {limit}."
        )
    kept = f"the first by {rule.order_by}" if rule.order_by else "one, the same every run"
    return f"one row per duplicated key is kept ({kept}); warns, blocks above {limit}."


def _graded(
    name: str, failing: int, total: int, tolerance: float, rule: str, sample: str
) -> dg.AssetCheckResult:
    share = failing / total if total else 0.0
    if failing == 0:
        passed, severity = True, dg.AssetCheckSeverity.WARN
    else:
        passed = False
        # Under the tolerance: quarantine and warn; the rest of the rows still sync.
        severity = dg.AssetCheckSeverity.WARN if share <= tolerance else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        check_name=name,
        passed=passed,
        severity=severity,
        description=(
            f"{failing} of {total} rows ({share:.2%}); tolerance {tolerance:.0%}"
            + ("" if failing == 0 else " — quarantined" if share <= tolerance else " — BLOCKED")
        ),
        metadata={
            "failing_rows": failing,
            "failing_share": round(share, 6),
            "tolerance": tolerance,
            "rule": rule,
            "sample": dg.MetadataValue.md(sample),
        },
    )


@dataclass
class RecordChecks:
    session: WarehouseSession
    sync: SyncConfig

    def primary_key_unique(self) -> dg.AssetCheckResult:
        """Every duplicated key, counted, with a sample of keys and their rows. The rows
        failing are the copies dropped: all but one per key, or all under drop_all."""
        policy = self.sync.duplicates.policy
        keys, failing = verdicts.duplicated(self.session, self.sync)
        sample = verdicts.duplicated_sample(self.session, self.sync, SAMPLE_ROWS)
        result = _graded(
            PRIMARY_KEY_UNIQUE,
            failing,
            verdicts.model_rows(self.session, self.sync),
            self.sync.tolerances.duplicate_keys,
            f"{self.sync.primary_key} unique; {duplicates_rule(self.sync)}",
            markdown_table(sample),
        )
        metadata = {
            **result.metadata,
            "duplicated_keys": keys,
            "policy": policy.value,
            "order_by": self.sync.duplicates.order_by or "",
        }
        severity, description = result.severity, f"{keys} duplicated keys; {result.description}"
        if policy is DuplicatePolicy.BLOCK and keys:
            # Any duplicate blocks: the tolerance does not apply.
            severity = dg.AssetCheckSeverity.ERROR
            description = f"{keys} duplicated keys ({failing} extra rows) — BLOCKED (block)"
        return dg.AssetCheckResult(
            check_name=PRIMARY_KEY_UNIQUE,
            passed=result.passed,
            severity=severity,
            description=description,
            metadata=metadata,
        )

    def identifiers_valid(self) -> dg.AssetCheckResult:
        failing = verdicts.held_back(self.session, self.sync, IDENTIFIERS_VALID)
        sample = verdicts.held_back_sample(
            self.session,
            self.sync,
            IDENTIFIERS_VALID,
            "PK, INVALID_REASON AS REASON, EMAIL, USER_ID",
            SAMPLE_ROWS,
        )
        total = verdicts.records(self.session, self.sync)
        return _graded(
            IDENTIFIERS_VALID,
            failing,
            total,
            self.sync.tolerances.missing_identifiers,
            f"{self.sync.match or 'the identifier'} present; emails match {rules.EMAIL_SHAPE}",
            markdown_table(sample),
        )

    def values_fit_types(self, field_types: dict[str, str]) -> dg.AssetCheckResult:
        failing = verdicts.held_back(self.session, self.sync, VALUES_FIT_TYPES)
        sample = verdicts.held_back_sample(
            self.session,
            self.sync,
            VALUES_FIT_TYPES,
            "PK, INVALID_FIELD AS FIELD, INVALID_VALUE AS VALUE",
            SAMPLE_ROWS,
        )
        for row in sample:
            row["EXPECTED"] = field_types.get(str(row["FIELD"]), "(cast)")
        total = verdicts.records(self.session, self.sync)
        types = ", ".join(f"{f}: {t}" for f, t in sorted(field_types.items()))
        return _graded(
            VALUES_FIT_TYPES,
            failing,
            total,
            self.sync.tolerances.invalid_values,
            f"values fit their Iterable types ({types})",
            markdown_table(sample),
        )

    def type_rule(self, name: str) -> dg.AssetCheckResult:
        """Rows the sync's type refuses for its own reasons (missing items, bad ids...)."""
        failing = verdicts.held_back(self.session, self.sync, name)
        sample = verdicts.held_back_sample(
            self.session,
            self.sync,
            name,
            "PK, INVALID_REASON AS REASON, INVALID_FIELD AS FIELD, INVALID_VALUE AS VALUE",
            SAMPLE_ROWS,
        )
        total = verdicts.records(self.session, self.sync)
        return _graded(
            name,
            failing,
            total,
            self.sync.tolerances.invalid_values,
            TYPE_CHECKS[self.sync.type][1],
            markdown_table(sample),
        )

    def results(self, field_types: dict[str, str]) -> list[dg.AssetCheckResult]:
        """Every check of ``check_specs`` but the budget, in the same order."""
        found = [self.primary_key_unique()]
        if self.sync.has_users:
            found.append(self.identifiers_valid())
        if applies_to_identity(self.sync):
            found.append(identity.check_result(self.session, self.sync))
        if self.sync.FIELDS_OF is not None:
            found.append(self.values_fit_types(field_types))
        if self.sync.type in TYPE_CHECKS:
            found.append(self.type_rule(TYPE_CHECKS[self.sync.type][0]))
        return found

    def budget(self, budget: Budget, period: str) -> tuple[dg.AssetCheckResult, int, int]:
        """(check, records counted this period so far, new records this run)."""
        counted, new = budget_ledger.counted_and_new(self.session, self.sync, period)
        used = counted + new
        share = used / budget.queried_records
        if share <= budget.warn_at:
            passed, severity = True, dg.AssetCheckSeverity.WARN
        else:
            passed = False
            severity = dg.AssetCheckSeverity.WARN if share <= 1 else dg.AssetCheckSeverity.ERROR
        result = dg.AssetCheckResult(
            check_name=QUERIED_RECORDS_BUDGET,
            passed=passed,
            severity=severity,
            description=f"{used:,} of {budget.queried_records:,} queried records in {period} "
            f"({share:.1%}) after this run's {new:,} new ones",
            metadata={
                "period": period,
                "counted_before_run": counted,
                "new_this_run": new,
                "budget_used": used,
                "budget_left": max(budget.queried_records - used, 0),
                "budget": budget.queried_records,
                "warn_at": budget.warn_at,
            },
        )
        return result, counted, new
