"""Texts -> vectors on a Ray cluster, for builds whose encoder work outgrows one machine.

The encoder is the build's cost (a million passages is about a CPU-day), and it is the one step
that parallelizes without coordination, so only it leaves the machine: the build still reads,
chunks and writes segments itself, and hands each flush's texts to Ray Data, whose actor pool
loads the model once per worker for that flush and spreads token-sized batches over the
workers. A worker that dies loses its batch only: Ray restarts the actor and runs the batch
again. Each worker checks that it loaded the very model the build's index records (its
fingerprint), so a node with other weights fails the build instead of mixing vectors.

Nothing here is imported unless the build asks for Ray (``jisr build --ray``). A local cluster
that this module starts binds 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jisr.errors import ClusterError
from jisr.settings import tell_child_library

# Ray binds its servers to the machine's network address unless it believes it runs a laptop-only
# cluster; this switch (read when ray is imported) makes a local cluster use and bind 127.0.0.1.
_LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
LOCAL = "local"
ROWS_PER_TASK = 256  # texts in one Ray Data batch: a worker that dies re-encodes at most these


@dataclass(frozen=True)
class ModelSpec:
    """How a worker loads the build's model: the arguments of :func:`jisr.embeddings.load_model`."""

    name: str | None = None
    cache_dir: str | None = None
    trusted_model: str | None = None

    def load(self):
        from jisr.embeddings import load_model

        return load_model(self.name, cache_dir=self.cache_dir, trusted_model=self.trusted_model)


class _Worker:
    """A Ray Data actor: the model, loaded once, encoding the batches it is given."""

    def __init__(self, spec: ModelSpec, fingerprint: str, threads: int):
        import torch

        from jisr.embeddings import model_fingerprint
        from jisr.errors import ModelError

        self.model = spec.load()
        torch.set_num_threads(threads)  # the CPUs Ray reserved for this worker, not the host's
        found = model_fingerprint(self.model)
        if found != fingerprint:
            raise ModelError(
                f"a Ray worker loaded model {spec.name or 'default'!r} with fingerprint {found}, "
                f"but the build's model has {fingerprint}: install the same model on every node"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from jisr.embeddings.batching import encode_documents

        return {"row": batch["row"], "vector": encode_documents(self.model, [str(t) for t in batch["text"]])}


def _reachable(address: str) -> str | None:
    """The host of a ``host:port`` or ``ray://host:port`` address once it accepts a connection: ray.init
    retries an unreachable address for minutes; this fails in seconds."""
    if address in (LOCAL, "auto"):
        return None
    host, _, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise ClusterError(
            f"cannot reach a Ray cluster at {address!r} ({exc}): start one with `ray start --head`, "
            "or pass --ray alone for a local one"
        ) from None
    return host


class RayEncoder:
    """``encoder(texts) -> vectors`` (as ``model.encode_document``) on a Ray cluster; a context manager.

    ``address`` is ``"local"`` (start a cluster on this machine, on 127.0.0.1, and stop it after),
    ``"auto"`` (the cluster ``ray start`` or ``RAY_ADDRESS`` names) or a cluster address.
    ``workers`` defaults to this machine's usable CPUs for a local cluster and to the cluster's
    CPUs otherwise, divided by ``threads`` (torch threads per worker).
    """

    def __init__(
        self,
        spec: ModelSpec,
        fingerprint: str,
        dimension: int,
        address: str = LOCAL,
        workers: int | None = None,
        threads: int = 1,
    ):
        self.spec, self.fingerprint, self.dimension = spec, fingerprint, dimension
        self.address, self.threads = address, threads
        self.workers = workers
        self._ray = None

    def __enter__(self) -> RayEncoder:
        host = _reachable(self.address)
        if self.address == LOCAL or host in ("127.0.0.1", "localhost", "::1"):
            tell_child_library(_LOOPBACK_ONLY, "0")  # before ray is imported (it reads this once): stay on loopback
        try:
            import ray
            import ray.data
        except ImportError:
            raise ClusterError("Ray is not installed: pip install 'jisr[ray]'") from None
        from jisr.embeddings.cpus import available_cpus

        options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        try:
            if self.address == LOCAL:
                cpus = self.workers * self.threads if self.workers else available_cpus()
                ray.init(address="local", num_cpus=cpus, **options)
            else:
                ray.init(address=self.address, **options)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError: all mean "no cluster"
            raise ClusterError(f"cannot reach a Ray cluster at {self.address!r}: {exc}") from exc
        self._ray = ray
        if self.workers is None:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // self.threads)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # its failures reach the caller as ClusterError
        return self

    def __exit__(self, *exc) -> None:
        if self._ray is not None:
            self._ray.shutdown()
            self._ray = None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        if not len(texts):
            return vectors
        if self._ray is None:
            raise ClusterError("RayEncoder is used outside its `with` block")
        import ray.data

        # longest first, so a batch's texts pad alike and no worker is left with the longest batch at the end
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows = [{"row": i, "text": texts[i]} for i in order]
        per_task = max(1, min(ROWS_PER_TASK, math.ceil(len(rows) / (2 * self.workers))))
        dataset = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / per_task))
        encoded = dataset.map_batches(
            _Worker,
            fn_constructor_kwargs={"spec": self.spec, "fingerprint": self.fingerprint, "threads": self.threads},
            batch_size=per_task,
            batch_format="numpy",
            num_cpus=self.threads,
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, math.ceil(len(rows) / per_task))),
        )
        try:
            for batch in encoded.iter_batches(batch_size=None, batch_format="numpy"):
                vectors[batch["row"]] = batch["vector"]
        except ray.exceptions.RayError as exc:  # a worker that raised (not one that died: Ray retries those)
            last = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]  # the worker's own error
            raise ClusterError(
                f"the Ray workers could not encode: {last.rpartition('.')[2] if ': ' in last else last}"
            ) from exc
        return vectors
