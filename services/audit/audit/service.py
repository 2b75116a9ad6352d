"""The nameko adapter of the audit service: decode, authorize, run the use case in one unit of work,
dump; the trail's handler takes every event of every service; checkpoints on a timer."""

from audit import domain, usecases
from audit import schemas as s
from audit.domain import reminders
from audit.repository import SqlRepository
from nxshared.catalog import REGISTRY
from nxshared.clock import Clock
from nxshared.core.caller import ANY_ORG
from nxshared.entrypoints import rpc, subscribe
from nxshared.events import Registry
from nxshared.gauges import BusinessGauges
from nxshared.reminders import count_sent, reminder_timer
from nxshared.service import ServiceBase
from nxshared.settings import Rules
from nxshared.timers import every
from nxshared.validation import dump, load

# every source of the contract, audit's own too: its case decisions are on the trail like any other
# (a service that is not installed yet, or newer than audit, still reaches it)
TRAIL_SOURCES = ("planning", "review", "approval", "finance", "security", "audit")
# audit, the smart office and the owner read a trail; to every other caller it does not exist (NotFound)
TRAIL_READERS = [ANY_ORG]
ANOMALY_READERS = ["audit", "smart_office"]
# the trail reads envelopes only: with no event type registered, every event is kept with its data as
# sent (a known type is not held to this installation's schema of it, nor upcast)
ENVELOPES = Registry()


def audit_rules(config):
    return domain.AuditRules.from_settings(config["CLASSIFIED_VISIBLE_TO"])


def audit_reminder_rules(config):
    return reminders.ReminderRules.from_settings(config["AUDIT_CASE_OPEN_DAYS"])


def audit_gauges(session, clock):
    repo = SqlRepository(session)
    latest = repo.latest_checkpoint()
    if latest is not None:
        yield (
            "nx_audit_checkpoint_root",
            "The latest checkpoint's root hash over every trail's head (label), its number (value)",
            {"root": latest.root},
            latest.seq,
        )
        yield "nx_audit_checkpoint_entries", "Trail entries the latest checkpoint covers", {}, latest.entries
    heads = repo.live_heads()
    yield "nx_audit_trail_entries", "Entries on every trail", {}, sum(h.length for h in heads.values())
    counts = repo.case_counts()
    for status in domain.CaseStatus:
        yield "nx_audit_cases", "Audit cases by status (Art 26)", {"status": status.value}, counts.get(status, 0)


class AuditService(ServiceBase):
    name = "audit"
    rules = Rules(audit_rules)
    reminder_rules = Rules(audit_reminder_rules)
    gauges = BusinessGauges(audit_gauges)

    # --- the trail (Art 27) ---------------------------------------------------------------------------

    @subscribe(sources=TRAIL_SOURCES)
    def record_trail(self, payload):
        """Every event of every service of the contract, known type or not, chained onto its
        project's trail once, as it was sent. A payload that is not an envelope is refused here
        (``MALFORMED_EVENT``) and parked, never chained."""
        evt = ENVELOPES.decode(payload, unknown_types=True)
        with self.db.transaction(SqlRepository, orm=False) as uow:  # on every event's path
            usecases.record_trail(uow, evt, Clock.now().isoformat())

    @rpc(allow=TRAIL_READERS)
    def get_trail(self, project_id, after_seq=0, limit=s.LIMIT_MAX):
        """Art 27: the project's trail in `seq` order, `limit` entries after `after_seq`; each entry with
        `prev_hash` and `hash` as the hash rule says. For audit, the smart office and the owner (a
        classified project: the owner, audit and `CLASSIFIED_VISIBLE_TO`); `project_id` null is the
        suite's trail (events naming no project), for audit."""
        wanted = load(s.TrailPageIn, {"project_id": project_id, "after_seq": after_seq, "limit": limit})
        with self.db.reading() as session:
            return usecases.get_trail(SqlRepository(session), **wanted, caller=self.auth.caller, rules=self.rules)

    @rpc(allow=TRAIL_READERS)
    def verify_trail(self, project_id):
        """Art 27: re-check the project's trail: `ok`, its `entries`, `first_bad` (the `seq` of the first
        entry that is not what the chain says, or of the first missing one); held to the trail's
        head and every checkpoint of it (`checked_against`: the longest checkpointed length)."""
        wanted = load(s.TrailIn, {"project_id": project_id})
        with self.db.reading() as session:
            found = usecases.verify_trail(SqlRepository(session), **wanted, caller=self.auth.caller, rules=self.rules)
            return dump(s.VerificationOut, found)

    @rpc(allow=[ANY_ORG])
    def get_checkpoint(self):
        """Art 27: the latest checkpoint: its number, when it was taken, the `root` hash over every
        trail's head (the root rule), how many trails and entries it covers; null before the first."""
        with self.db.reading() as session:
            found = usecases.get_checkpoint(SqlRepository(session))
            return None if found is None else dump(s.CheckpointOut, found)

    @every("CHECKPOINT_SECONDS")
    def take_checkpoint(self):
        """Appends a checkpoint when a trail grew since the last one."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            usecases.take_checkpoint(uow, Clock.now())

    # --- anomalies (Art 27) ---------------------------------------------------------------------------

    @rpc(allow=ANOMALY_READERS)
    def list_anomalies(self, project_id=None):
        """Art 13–15, 18, 21, 27: what the trail shows was done against the measures (a disbursement
        before a contract or above the approved budget, an approval before a passed or filed review,
        an acceptance without a passed pre-check or while an unauthorized change was open, a contract
        without procurement); each with its `rule`, `article` and the `event_ids` that show it."""
        wanted = load(s.AnomaliesIn, {"project_id": project_id})
        with self.db.reading() as session:
            found = usecases.list_anomalies(SqlRepository(session), **wanted, caller=self.auth.caller, rules=self.rules)
            return dump(s.AnomalyOut, found, many=True)

    # --- cases (Art 26) -------------------------------------------------------------------------------

    @subscribe("acceptance.passed", source="review")
    def open_case(self, payload):
        """Art 26: an accepted project is handed to the auditor; its case opens (`audit.opened`)."""
        evt = REGISTRY.decode(payload, unknown_types=True)
        with self.db.transaction(SqlRepository, orm=False) as uow:
            usecases.on_acceptance_passed(uow, evt, Clock.now())

    @rpc(allow=["audit"])
    def record_finding(self, case_id, severity, description):
        """Art 26–27: a finding of an open case (`severity`: low, medium, high, critical)."""
        wanted = load(s.FindingIn, {"case_id": case_id, "severity": severity, "description": description})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            case = usecases.record_finding(uow, **wanted, caller=self.auth.caller, now=Clock.now())
            return dump(s.CaseOut, case)

    @rpc(allow=["audit"])
    def close_case(self, case_id, conclusion):
        """Art 26: close an open case with the conclusion (`audit.closed`): the project is audited."""
        wanted = load(s.CloseIn, {"case_id": case_id, "conclusion": conclusion})
        with self.db.transaction(SqlRepository, orm=False) as uow:
            case = usecases.close_case(uow, **wanted, caller=self.auth.caller, now=Clock.now())
            return dump(s.CaseOut, case)

    @rpc(allow=["audit"])
    def list_cases(self, status=None):
        """Art 26: the audit cases, oldest first, with their findings; `status` open or closed."""
        wanted = load(s.CasesIn, {"status": status})
        with self.db.reading() as session:
            return dump(s.CaseOut, usecases.list_cases(SqlRepository(session), **wanted), many=True)

    # --- reminders (reminder.due) ---------------------------------------------------------------

    @reminder_timer
    def send_reminders(self):
        """Art 26: cases open longer than `AUDIT_CASE_OPEN_DAYS` on the suite's clock, each reminded once."""
        with self.db.transaction(SqlRepository, orm=False) as uow:
            sent = usecases.send_case_reminders(uow, self.clock.today(), self.reminder_rules)
        count_sent(self.metrics, sent)
