"""The LOVE-R1 agent: reply grammar, prompt building, the batched zoom loop and episode records."""

from love_r1.agent._questions import check_evidence, check_gold, normalize_options
from love_r1.agent.api import ask
from love_r1.agent.grammar import ParsedReply, parse_reply
from love_r1.agent.ledger import Ledger
from love_r1.agent.loop import EpisodeTask, StepEvent, resolve_zoom, run_episode, run_episodes
from love_r1.agent.messages import build_messages
from love_r1.agent.policy import ZoomPolicy
from love_r1.agent.steps import AnswerStep, Episode, ForcedAnswerStep, Step, ZoomStep

__all__ = [
    "AnswerStep", "Episode", "EpisodeTask", "ForcedAnswerStep", "Ledger", "ParsedReply", "Step", "StepEvent",
    "ZoomPolicy", "ZoomStep", "ask", "build_messages", "check_evidence", "check_gold", "normalize_options",
    "parse_reply", "resolve_zoom", "run_episode", "run_episodes",
]
