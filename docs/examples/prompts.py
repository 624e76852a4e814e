import enum

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp import Message

app = Flask(__name__)
mcp = FlaskMCP(app, name="Prompts")


class Tone(enum.Enum):
    FRIENDLY = "friendly"
    FORMAL = "formal"


@mcp.prompt
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review this code:\n\n{code}"


@mcp.prompt(title="Summarize a text")
def summarize(text: str, words: int = 50, tone: Tone = Tone.FRIENDLY) -> list:
    """Summarize a text in a few words.

    :param text: what to summarize.
    :param words: about how many words the summary may have.
    :param tone: how the summary should sound.
    """
    return [
        Message("user", f"Summarize in {words} words, {tone.value} tone:\n{text}"),
        Message("assistant", "Here is the summary:"),
    ]


LANGUAGES = ["python", "javascript", "rust", "go"]


@mcp.prompt
def translate(code: str, language: str) -> str:
    """Translate code into another programming language."""
    return f"Translate this code to {language}:\n\n{code}"


@mcp.completion(prompt="translate", argument="language")
def complete_language(value: str, arguments: dict[str, str]) -> list[str]:
    """Suggest languages starting with what the user typed."""
    return [name for name in LANGUAGES if name.startswith(value)]
