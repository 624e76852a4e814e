import queue
import threading

from flask_mcp.tasks import Executor
from flask_mcp.tasks import TaskService


class InProcessQueue(Executor):
    """Legs on a queue read by one thread: the shape of an RQ executor,
    whose ``submit`` would enqueue ``service.work`` in another process."""

    name = "in-process-queue"

    def __init__(self, service: TaskService) -> None:
        self.service = service
        self.legs: queue.Queue[tuple[str, int]] = queue.Queue()
        threading.Thread(target=self._work, daemon=True).start()

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        if delay > 0:  # a retried leg waits its turn
            threading.Timer(delay, self.legs.put, args=((task_id, leg),)).start()
        else:
            self.legs.put((task_id, leg))

    def _work(self) -> None:
        while True:
            task_id, leg = self.legs.get()
            self.service.work(task_id, leg)


# app.config["MCP_TASKS_EXECUTOR"] = "yourapp.queues:InProcessQueue"
