"""TrainingManager: "Train now" for one workspace, from the log to a promoted adapter.

It prepares the data in the server's process (cheap, async), runs the training in a
worker process (`worker.py`) whose progress lines it relays, and then applies the eval
gate and records the outcome (`registry.py`). One training per workspace at a time: an
in-process flag plus a file lock on `train.lock`, so a CLI run and the language server
cannot train the same workspace together.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from filelock import FileLock, Timeout

from tether.config import Settings, TrainingSettings
from tether.core.types import USER_VERDICTS, Actor, new_id, utcnow
from tether.decisions.models import AdapterRow
from tether.decisions.store import DecisionStore
from tether.paths import WorkspacePaths
from tether.training.child import WorkerChild
from tether.training.dataset import TrainingData, data_hash, load_training_data, write_jsonl
from tether.training.gate import judge
from tether.training.incremental import IncrementalPlan, why_not_incremental
from tether.training.incremental import plan as incremental_plan
from tether.training.lineage import ADAPTER_FILE, Lineage, software_versions
from tether.training.models import (
    Hyperparameters,
    ProgressEvent,
    TrainingJob,
    TrainingResult,
    TrainingStatus,
)
from tether.training.redaction import RedactorMissing
from tether.training.registry import AdapterRegistry

log = logging.getLogger(__name__)

ProgressCallback = Callable[[ProgressEvent], Awaitable[None] | None]
EMBEDDED_NAME = "embedded:smollm2"


class TrainingBusy(RuntimeError):
    """A training is already running for this workspace (here or in another process)."""


class TrainingManager:
    def __init__(
        self,
        store: DecisionStore,
        paths: WorkspacePaths,
        settings: Settings | TrainingSettings,
        *,
        base_model: Path | None = None,
        python: str = sys.executable,
    ) -> None:
        """`base_model`: a plain model dir to train instead of the embedded SmolLM2."""
        self.store = store
        self.paths = paths
        self.settings = settings.training if isinstance(settings, Settings) else settings
        self.base_model = base_model
        self.python = python
        self.registry = AdapterRegistry(store, paths)
        self._status = TrainingStatus()
        self._running = False
        self._cancel = False
        self._child: WorkerChild | None = None  # the running training's worker process
        self._finished = asyncio.Event()
        self._finished.set()
        self._last_attempt_head = 0

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return self._running

    @property
    def worker_pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def status(self) -> TrainingStatus:
        return self._status.model_copy(deep=True)

    async def last_trained_seq(self) -> int:
        """Head seq of the newest run's data (promoted, refused, failed or cancelled)."""
        seqs = [self._last_attempt_head]
        for row in await self.store.adapters():
            seqs.append(int(row.lineage.get("decision_range", {}).get("head_seq", 0)))
        return max(seqs)

    async def new_labels(self) -> int:
        """User verdicts recorded since the last training's data was read."""
        rows = await self.store.decisions(after_seq=await self.last_trained_seq())
        return sum(1 for r in rows if r.actor == Actor.USER and r.outcome in USER_VERDICTS)

    # ------------------------------------------------------------------ control
    async def cancel(self) -> bool:
        """Stop the running training, if any; returns once it has ended. Nothing is promoted."""
        if not self._running:
            return False
        self._cancel = True
        self._status.state = "cancelling"
        if self._child is not None:
            await self._child.cancel()
        await self._finished.wait()
        return True

    async def train_now(
        self,
        on_progress: ProgressCallback | None = None,
        *,
        max_steps: int | None = None,
        data: TrainingData | None = None,
        checkpoints: tuple[list[int], Path] | None = None,
        force: bool = False,
    ) -> TrainingResult:
        """Train, evaluate and promote or refuse; raises TrainingBusy when already training.

        When the data is exactly what the newest adapter was trained on, nothing is trained
        ("nothing new to learn from since vN"); `force` retrains anyway.

        `data` replaces what the log would give (benchmarks and tests use it to train on
        prepared data); `max_steps` caps the run; `checkpoints` (steps, folder) saves the
        adapter after those optimizer steps, for learning curves.
        """
        if self._running:
            raise TrainingBusy("a training is already running for this workspace")
        self.paths.ensure()
        lock = FileLock(str(self.paths.train_lock), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise TrainingBusy(
                f"another Tether process is training this workspace (lock {self.paths.train_lock})"
            ) from None
        self._running, self._cancel = True, False
        self._finished.clear()
        job_id = new_id()[:12]
        started = time.perf_counter()
        self._status = TrainingStatus(
            state="preparing",
            job_id=job_id,
            phase="preparing",
            message="preparing data",
            started_at=utcnow(),
            last_result=self._status.last_result,
        )
        job_dir = self.paths.jobs / job_id
        result: TrainingResult | None = None
        try:
            await self._emit(
                on_progress,
                ProgressEvent(event="progress", phase="preparing", message="preparing data"),
            )
            self._clear_stale_jobs()
            result = await self._run(
                job_id, job_dir, data, max_steps, on_progress, checkpoints, force=force
            )
        except asyncio.CancelledError:
            result = TrainingResult(status="cancelled", reason="the training task was cancelled")
            raise
        except Exception as exc:  # the store, the disk…: report it, never leave it running
            log.exception("training failed")
            result = TrainingResult(status="failed", reason=f"{type(exc).__name__}: {exc}")
        finally:
            if self._child is not None:
                await self._child.stop()
                self._child = None
            shutil.rmtree(job_dir, ignore_errors=True)
            if result is not None:
                result.seconds = round(time.perf_counter() - started, 3)
            self._status = TrainingStatus(state="idle", last_result=result)
            self._running = False
            lock.release()
            self._finished.set()
        return result

    # ------------------------------------------------------------------ internals
    async def _run(
        self,
        job_id: str,
        job_dir: Path,
        data: TrainingData | None,
        max_steps: int | None,
        on_progress: ProgressCallback | None,
        checkpoints: tuple[list[int], Path] | None = None,
        *,
        force: bool = False,
    ) -> TrainingResult:
        s = self.settings
        if data is None:
            try:
                data = await load_training_data(self.store, s)
            except RedactorMissing as exc:
                return TrainingResult(status="failed", reason=str(exc))
        base = TrainingResult(
            status="skipped",
            data_hash=data.data_hash,
            decision_range=data.decision_range,
            heldout_examples=data.heldout_count,
        )
        why_not = data.trainable(s)
        if why_not:
            return base.model_copy(update={"reason": why_not})
        if not force:
            same = await self._trained_on(data_hash(data))  # of the content, not the label
            if same:
                return base.model_copy(update={"reason": f"nothing new to learn from since {same}"})
        self._last_attempt_head = max(self._last_attempt_head, data.decision_range.head_seq)
        if self._cancel:
            return base.model_copy(update={"status": "cancelled", "reason": "cancelled"})

        method = data.method(s)
        rows = data.train_rows(method)
        active = await self.store.active_adapter()
        active_dir = Path(active.path) if active else None
        if active_dir is not None and not (active_dir / ADAPTER_FILE).is_file():
            log.warning(
                "active adapter %s has no weights at %s; judging against the base",
                active.version if active else None,
                active_dir,
            )
            active_dir = None
        warm = None  # continue the active adapter on what is new (training.incremental)
        if s.incremental and not force and active is not None and active_dir is not None:
            warm = self._incremental(data, method, active)
            if warm is not None:
                rows = warm.rows
        hyper = Hyperparameters.of(s, max_steps=max_steps if max_steps is not None else s.max_steps)
        job_dir.mkdir(parents=True, exist_ok=True)
        job = TrainingJob(
            job_id=job_id,
            method=method,
            train_file=str(job_dir / "train.jsonl"),
            heldout_pairs_file=str(job_dir / "heldout_pairs.jsonl"),
            heldout_labels_file=str(job_dir / "heldout_labels.jsonl"),
            output_dir=str(job_dir / "candidate"),
            base_model=str(self.base_model) if self.base_model else None,
            active_adapter=str(active_dir) if active_dir else None,
            device=s.device,
            nice=s.worker_nice,
            hyper=hyper,
            checkpoint_steps=checkpoints[0] if checkpoints else [],
            checkpoint_dir=str(checkpoints[1]) if checkpoints else None,
            cache_dir=str(self.paths.root / "cache" / "training"),
            cache_mb=s.cache_mb,
            warm_start=str(active_dir) if warm else None,
        )
        write_jsonl(job.train_file, rows)
        write_jsonl(job.heldout_pairs_file, (p.trl() for p in data.pairs_heldout))
        write_jsonl(job.heldout_labels_file, (k.trl() for k in data.labels_heldout))
        job_file = job_dir / "job.json"
        job_file.write_text(job.model_dump_json(indent=2), encoding="utf-8")

        self._status.state = "training"
        child = self._child = WorkerChild(self.python)
        if self._cancel:  # cancelled since the check above: the child must not run on
            await child.cancel()
        report, failure = await child.run(
            job_file, job_dir, lambda event: self._on_worker_event(event, on_progress)
        )
        common = base.model_copy(update={"method": method, "train_examples": len(rows)})
        if self._cancel:
            return common.model_copy(
                update={
                    "status": "cancelled",
                    "reason": "cancelled; the active adapter is unchanged",
                }
            )
        if report is None:
            return common.model_copy(update={"status": "failed", "reason": failure})

        self._status.state = "promoting"
        await self._emit(
            on_progress,
            ProgressEvent(event="progress", phase="promoting", message="applying the eval gate"),
        )
        gate = judge(report.metrics, s.eval_margin)
        version = await self.registry.next_version()
        lineage = Lineage(
            version=version,
            parent=active.version if active else None,
            created_at=utcnow(),
            status="active" if gate.promote else "refused",
            method=method,
            base_model=job.base_model or EMBEDDED_NAME,
            data_hash=data.data_hash,
            decision_range=data.decision_range,
            head_hash=data.decision_range.head_hash,
            config=hyper,
            metrics=report.metrics,
            gate=gate,
            adapter_file=ADAPTER_FILE,
            adapter_sha256=report.adapter_sha256,
            train_examples=len(rows),
            heldout_pairs=len(data.pairs_heldout),
            heldout_labels=len(data.labels_heldout),
            verifier_pairs=data.verifier_pairs,
            redactions=data.redactions,
            duplicates_removed=data.exact_duplicates + data.near_duplicates,
            steps=report.steps,
            train_seconds=report.train_seconds,
            prepare_seconds=report.prepare_seconds,
            seconds_per_step=report.seconds_per_step,
            device=report.device,
            job_id=job_id,
            software=software_versions(),
            trl_config=report.trl_config,
            lora_layers=report.lora_layers,
            cache=report.cache,
            warm_start=warm.parent if warm else None,
        )
        await self.registry.record(Path(job.output_dir), lineage)
        return common.model_copy(
            update={
                "status": "promoted" if gate.promote else "refused",
                "reason": gate.reason,
                "version": version,
                "parent": lineage.parent,
                "gate": gate,
                "metrics": report.metrics,
                "steps": report.steps,
                "seconds_per_step": report.seconds_per_step,
                "train_seconds": report.train_seconds,
                "tokens": report.tokens,
                "parameters": report.parameters,
                "trainable_parameters": report.trainable_parameters,
                "prefix_saved": report.prefix_saved,
                "device": report.device,
                "adapter_sha256": report.adapter_sha256,
                "lora_layers": report.lora_layers,
                "cache": report.cache,
                "prepare_seconds": report.prepare_seconds,
                "warnings": report.warnings,
                "warm_start": warm.parent if warm else None,
            }
        )

    def _incremental(
        self, data: TrainingData, method: str, active: AdapterRow
    ) -> IncrementalPlan | None:
        base_name = str(self.base_model) if self.base_model else EMBEDDED_NAME
        why = why_not_incremental(active.lineage, self.settings, method, base_name)
        if why:
            log.info("training from the base model: %s", why)
            return None
        return incremental_plan(data, self.settings, active.lineage, active.version)

    async def _trained_on(self, digest: str) -> str | None:
        """The newest adapter's version when it was trained on exactly this data."""
        rows = await self.store.adapters()
        if rows and rows[-1].lineage.get("data_hash") == digest:
            return rows[-1].version
        return None

    async def _on_worker_event(
        self, event: ProgressEvent, on_progress: ProgressCallback | None
    ) -> None:
        if event.event == "progress":
            status = self._status
            self._status = status.model_copy(
                update={
                    "phase": event.phase,
                    "step": event.step if event.step is not None else status.step,
                    "total": event.total if event.total is not None else status.total,
                    "loss": event.loss if event.loss is not None else status.loss,
                    "message": event.message,
                    "state": self._state_for(event),
                }
            )
        await self._emit(on_progress, event)

    def _state_for(self, event: ProgressEvent) -> str:
        if self._cancel:
            return "cancelling"
        return "evaluating" if event.phase in ("evaluating", "saving") else "training"

    async def _emit(self, on_progress: ProgressCallback | None, event: ProgressEvent) -> None:
        if on_progress is None:
            return
        try:
            out = on_progress(event)
            if inspect.isawaitable(out):
                await out
        except Exception:  # a broken progress display must not break the training
            log.exception("on_progress failed")

    def _clear_stale_jobs(self) -> None:
        """Leftovers of runs that died with their parent; safe, we hold the lock."""
        if self.paths.jobs.is_dir():
            for entry in self.paths.jobs.iterdir():
                shutil.rmtree(entry, ignore_errors=True)


def describe(result: TrainingResult) -> str:
    """One line for people (CLI, editor message)."""
    if result.status in ("promoted", "refused"):
        verb = "promoted" if result.status == "promoted" else "refused"
        return f"adapter {result.version} {verb}: {result.reason}"
    return f"training {result.status}: {result.reason}"


def result_json(result: TrainingResult) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2)
