"""Her consents on her worker profile, besides `storage.workers.WorkerRepo`'s edits.

Two consents of PIPL, each given or refused by her, each recorded in the audit log (who,
when, given or not) so the programme can show when and how it was asked:

- `health`: keeping the date she passed her health examination (sensitive personal
  information, art. 28-29). Refused or withdrawn, the date and the staff's records of
  her health check are deleted, and her profile cannot be shown to households (no
  valid health check).
- `share`: showing her profile to households (a transfer, art. 23). Withdrawn, the
  profile is hidden at once (`WorkerRepo.set_shared`; `storage.workers.visible`).

Whether she has answered the health question at all (yes or no) is what the profile's
"send for checking" needs: a refusal leaves nothing on the profile, so it is read back
from the audit log.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from storage.models import AuditEntry, VettingCheck, WorkerProfile, utcnow
from storage.workers import WorkerRepo

#: the consents asked on a worker profile, by audit action
CONSENTS = {"health": "consent:health", "share": "consent:share"}


class WorkerEdits:
    """Consents on her own profile; works through the session of `WorkerRepo`."""

    def __init__(self, workers: WorkerRepo) -> None:
        self.workers = workers
        self.session = workers.session

    async def health_consent(self, profile: WorkerProfile, agreed: bool, actor: str) -> None:
        """Her separate consent to keep the date of her health examination, given or
        refused (withdrawn). Refused: the date, its validity and the staff's records of
        her health check are deleted (PIPL art. 47); she is hidden from households until
        she agrees again and staff record a new check."""
        before = {"agreed": profile.health_consent_at is not None}
        if agreed:
            profile.health_consent_at = profile.health_consent_at or utcnow()
        else:
            profile.health_consent_at = None
            profile.health_passed_on = None
            profile.health_valid_until = None
            await self.session.execute(
                delete(VettingCheck).where(
                    VettingCheck.profile_id == profile.id, VettingCheck.kind == "health"
                )
            )
        profile.version += 1
        self._record(profile, "health", actor, before, agreed)

    async def share(self, profile: WorkerProfile, shared: bool, actor: str) -> None:
        """Her consent to show the profile to households, given or withdrawn (hidden at
        once)."""
        before = {"agreed": profile.shared_at is not None}
        await self.workers.set_shared(profile, shared)
        self._record(profile, "share", actor, before, shared)

    async def answered(self, profile: WorkerProfile, consent: str) -> bool:
        """Whether she has ever answered this consent's question (yes or no)."""
        if consent == "health" and profile.health_consent_at is not None:
            return True
        await self.session.flush()
        found = await self.session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.subject == f"worker:{profile.id}",
                AuditEntry.action == CONSENTS[consent],
            )
            .limit(1)
        )
        return found is not None

    def _record(
        self, profile: WorkerProfile, consent: str, actor: str, before: dict, agreed: bool
    ) -> None:
        self.workers.audit(
            f"worker:{profile.id}", actor, CONSENTS[consent], before, {"agreed": agreed}
        )
