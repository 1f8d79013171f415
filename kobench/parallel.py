"""Data parallel runs under torchrun: which process this is, and the few meetings the processes need.

`torchrun --nproc-per-node N -m kobench run ...` starts N copies of kobench with RANK, WORLD_SIZE and
LOCAL_RANK set. Each loads its own model (on GPU LOCAL_RANK where there are GPUs) and answers its share of
the rows; they meet through a gloo process group only to wait for one another and to pass a few small
objects (an error, the run's counters, the results): no tensor ever crosses, so gloo serves GPUs as well as
CPUs and no NCCL set-up is needed.

Rows are shared out by conversation: a request that carries an earlier request's answer stays with the
process that asks the earlier one. The k-th conversation of a task (in dataset order) goes to rank
k mod N, so ranks get about as many rows each, long and short alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

from kobench.errors import BadInputError

T = TypeVar("T")

# A rank that finished its rows waits at a barrier for the slowest one, which may take hours on a large
# model; torchrun itself stops every rank when one of them dies, so a long wait never hangs for ever.
MEETING_TIMEOUT = timedelta(hours=72)
# How rows are shared out, as the results record it.
SHARDING = "the k-th conversation of a task, in dataset order, to rank k mod world_size"


@dataclass(frozen=True)
class Ranks:
    """This process's place among the data parallel processes (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Ranks:
        """What torchrun said in RANK, WORLD_SIZE and LOCAL_RANK; one process where it said nothing."""
        if "WORLD_SIZE" not in os.environ:
            return cls()
        try:
            world = int(os.environ["WORLD_SIZE"])
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise BadInputError(f"torchrun's RANK, WORLD_SIZE or LOCAL_RANK is not a number: {exc}") from None
        if world < 1 or not 0 <= rank < world or local < 0:
            raise BadInputError(f"torchrun's RANK={rank} does not fit WORLD_SIZE={world}")
        return cls(rank, world, local)

    @property
    def parallel(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def owns(
        self, items: Sequence[T], key: Callable[[T], Hashable], after: Callable[[T], Sequence]
    ) -> list[T]:
        """This rank's share of `items`: whole conversations (`after(item)`: the keys of the items whose
        answers it carries), the k-th conversation to rank k mod world_size."""
        if not self.parallel:
            return list(items)
        conversation: dict[Hashable, int] = {}
        mine = []
        count = 0
        for item in items:
            earlier = [conversation[k] for k in after(item) if k in conversation]
            if earlier:
                number = earlier[0]
            else:
                number, count = count, count + 1
            conversation[key(item)] = number
            if number % self.world_size == self.rank:
                mine.append(item)
        return mine


class Meetings:
    """The process group of a data parallel run (nothing at all for one process): a context manager that
    joins the group on entry and leaves it on exit."""

    def __init__(self, ranks: Ranks) -> None:
        self.ranks = ranks
        self._joined = False

    def __enter__(self) -> Meetings:
        if self.ranks.parallel:
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group("gloo", timeout=MEETING_TIMEOUT)
                self._joined = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._joined:
            import torch.distributed as dist

            dist.destroy_process_group()
            self._joined = False

    def wait_for_all(self) -> None:
        if self.ranks.parallel:
            import torch.distributed as dist

            dist.barrier()

    def main_first(self, work: Callable[[], T]) -> T:
        """Rank 0 does `work` first, then the other ranks do it too (reading what rank 0 left in the
        caches)."""
        result = self._on_main(work)
        return cast(T, result) if self.ranks.main else work()

    def from_main_alone(self, work: Callable[[], T]) -> T:
        """Rank 0 alone does `work`; every rank gets its result (or its error)."""
        return cast(T, self.from_main(self._on_main(work)))

    def main_alone(self, work: Callable[[], object]) -> None:
        """Rank 0 alone does `work`."""
        self._on_main(work)

    def _on_main(self, work: Callable[[], T]) -> T | None:
        """`work()` on rank 0 (None on the others); an error there is raised on every rank, so no rank
        waits for ever on one that gave up."""
        if not self.ranks.parallel:
            return work()
        failure: BaseException | None = None
        result: T | None = None
        if self.ranks.main:
            try:
                result = work()
            except Exception as exc:  # handed to the others, then raised here too
                failure = exc
        failure = self.from_main(failure)
        if failure is not None:
            raise failure
        return result

    def from_main(self, value: Any) -> Any:
        """Rank 0's `value`, on every rank."""
        if not self.ranks.parallel:
            return value
        import torch.distributed as dist

        box = [value if self.ranks.main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's `value`, in rank order, on every rank."""
        if not self.ranks.parallel:
            return [value]
        import torch.distributed as dist

        values: list[Any] = [None] * self.ranks.world_size
        dist.all_gather_object(values, value)
        return values
