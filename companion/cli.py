"""The `companion` command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from companion.errors import CompanionError, ConfigError

logger = logging.getLogger("companion")


def _headless_options(p: argparse.ArgumentParser) -> None:
    """WAV files for the microphone and speaker, the simulated room, the event log."""
    p.add_argument("--input-wav", help="use a WAV file as the microphone")
    p.add_argument("--output-wav", help="write what the companion says to a WAV file")
    p.add_argument(
        "--room",
        type=float,
        metavar="ECHO_DB",
        help="with --input-wav: a simulated bedroom, where what the companion says comes back "
        "into its microphone at ECHO_DB (e.g. -6), a little delayed and reverberant",
    )
    p.add_argument(
        "--events", metavar="FILE", help="write what it heard and said to FILE, as JSON lines"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="companion", description="Luma, an offline voice bedtime companion."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="listen and talk, and run the nightly routine on schedule")
    p.add_argument("--config", help="the parents' config file (TOML)")
    _headless_options(p)
    p.add_argument("--now", action="store_true", help="start tonight's routine at once (rehearse)")
    p.add_argument("--mode", choices=("shared", "freeform"), help="with --now: tonight's mode")

    p = sub.add_parser("schedule", help="the nights ahead: mode, wind-down and step times")
    p.add_argument("--config")
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("install-service", help="install and start the systemd service")
    p.add_argument("--config", help="config file the service uses (copied to /etc/companion)")

    p = sub.add_parser("hear", help="what the idle companion understands in a WAV file")
    p.add_argument("wav")
    p.add_argument("--config")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--expect",
        metavar="KIND",
        help="hear it as the answer to a question: colour, animal, name, place, object, "
        "sound, feeling, free or yes/no",
    )

    p = sub.add_parser("stories", help="list the stories that load (and why others do not)")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("tell", help="tell one story, by voice or in the terminal")
    p.add_argument("story_id", help="a story's id, or freeform, or bad-dream (made up together)")
    p.add_argument("--text", action="store_true", help="in the terminal: answers from stdin")
    p.add_argument("--config")
    _headless_options(p)
    p.add_argument("--listener", action="append", help="who is listening (repeat for turns)")

    p = sub.add_parser("journal", help="the stories told and made up, as Markdown")
    p.add_argument("--nights", type=int, help="only the last N nights")
    p.add_argument("--delete", type=int, metavar="ID", help="delete entry ID, for good")

    p = sub.add_parser("report", help="a night for the parents, as Markdown (never words said)")
    p.add_argument("--night", help="the evening's date, YYYY-MM-DD (default: the last night)")

    p = sub.add_parser("say", help="speak TEXT with the configured voice, on the speaker")
    p.add_argument("text")
    p.add_argument("--out", help="write a WAV file instead of playing it")
    p.add_argument("--config")

    p = sub.add_parser("init", help="write the parents' config file, commented, and check it")
    p.add_argument("--family", help='the children and their ages, like "Mila:6,Leo:4"')
    p.add_argument("--bedtime", help="bedtime every day, HH:MM (24-hour clock), like 19:30")
    p.add_argument("--path", help="where to write it (default: the user's config folder)")

    p = sub.add_parser("check-config", help="validate a config file")
    p.add_argument("path", nargs="?")
    p.add_argument("--config", help="the config file (the same as PATH)")

    p = sub.add_parser("devices", help="list sound devices and the ones the config selects")
    p.add_argument("--config")

    p = sub.add_parser("voices", help="list the piper voices that can be chosen")

    p = sub.add_parser("bench", help="measure latency, speed and memory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--config")
    p.add_argument("--rounds", type=int, default=2, help="passes over the cheap measurements")
    p.add_argument(
        "--room-minutes", type=float, default=20.0, help="room audio for the false-wake figure"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="one voice per family, plain and child only, a few requests and answers, a minute "
        "of room audio, three stops (a check, not figures to quote)",
    )
    return parser


def _return_freed_memory() -> None:
    """Serve large buffers (a sentence's audio, the voice's working memory) straight from the
    kernel, so they go back to it when freed instead of staying in the heap for the night."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD (glibc)
    except (OSError, AttributeError):
        logger.debug("mallopt is not available (not glibc)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = (
        logging.DEBUG
        if args.verbose
        else (logging.INFO if args.command == "run" else logging.WARNING)
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    _return_freed_memory()
    try:
        return COMMANDS[args.command](args)
    except ConfigError as err:
        for line in err.message.splitlines():
            print(line, file=sys.stderr)
        return err.exit_code
    except CompanionError as err:
        print(f"companion: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `companion journal | head`
        sys.stderr.close()
        return 0


def _config(args: argparse.Namespace):
    from companion.config import resolve_config

    return resolve_config(getattr(args, "config", None))


def cmd_check_config(args: argparse.Namespace) -> int:
    from companion.config import find_config, load_config, read_credentials

    path = find_config(args.path or args.config)
    if path is None:
        print("no config file found; the built-in defaults are valid")
        return 0
    config = load_config(path)
    if config.home is not None:  # `run` carries on without the home link; the check says why
        read_credentials(config.home, str(path))
    print(f"{path}: ok")
    return 0


def cmd_hear(args: argparse.Namespace) -> int:
    from companion.app import idle_grammar, load_recognizer
    from companion.audio.files import WavInput
    from companion.audio.segmenter import Segmenter, VoiceDetector
    from companion.dialog.intents import classify
    from companion.dialog.loop import addressed, first_utterance
    from companion.errors import AudioFileError

    config = _config(args)
    audio = WavInput(args.wav)
    stt = load_recognizer(config)
    listening = config.listening
    segmenter = Segmenter(listening.trailing_silence_s, listening.max_utterance_s)
    idle = idle_grammar(config)
    heard = first_utterance(audio.chunks(), VoiceDetector().is_speech, segmenter, stt, idle)
    audio.close()
    if heard is None:
        raise AudioFileError(f"{args.wav}: no speech found (the recording is silent or too quiet)")
    transcript, woke = addressed(heard, stt, idle)
    intent = classify(transcript)
    result = {
        "text": heard.text,
        "intent": intent.name,
        "confidence": intent.confidence,
        "engine": heard.engine,
        "wake": woke,
    }
    if args.expect:
        result["answer"] = _expected_answer(args, config, audio_path=args.wav)
    if args.json:
        print(json.dumps(result))
    else:
        print(f'heard "{heard.text}" → {intent.name} ({intent.confidence:.2f}, {heard.engine})')
    return 0


def _expected_answer(args: argparse.Namespace, config, audio_path: str) -> str | None:
    """Hear the file again with the grammar of that kind of answer; the safe answer or None."""
    from companion.app import load_recognizer
    from companion.audio.files import WavInput
    from companion.audio.segmenter import Segmenter, VoiceDetector
    from companion.dialog.loop import first_utterance
    from companion.messages import Grammar
    from companion.storytelling.format import KINDS
    from companion.storytelling.safety import (
        WordSafety,
        answer_grammar,
        answer_heard,
    )

    kind = args.expect.lower().replace("color", "colour")
    if kind in ("yes/no", "yesno", "yes-no"):
        from companion.dialog.intents import classify

        grammar = Grammar("yes/no", ("yes", "no", "okay", "not now", "yes please", "no thanks"))
    elif kind in KINDS:
        grammar = answer_grammar(kind, config.family.names)
    else:
        raise CompanionError(f"--expect: {args.expect!r} is not one of: {', '.join(KINDS)}, yes/no")
    listening = config.listening
    heard = first_utterance(
        WavInput(audio_path).chunks(),
        VoiceDetector().is_speech,
        Segmenter(listening.trailing_silence_s, listening.max_utterance_s),
        load_recognizer(config),
        grammar,
    )
    if heard is None:
        return None
    if grammar.name == "yes/no":
        name = classify(heard, allowed=frozenset({"yes", "no"})).name
        return None if name == "none" else name
    return answer_heard(kind, heard, WordSafety.with_words(config.safety.blocked_words))


def cmd_stories(args: argparse.Namespace) -> int:
    from companion.paths import data_dir
    from companion.storytelling.format import load_library

    stories, problems = load_library(data_dir("stories"), log=False)
    for line in problems:
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps([s.summary() for s in stories], indent=1))
    else:
        print(f"{'ID':48} {'MIN':>3}  {'AGES':5}  {'SEED':24}  ASKS  CHOICES  TITLE")
        for s in stories:
            ages = f"{s.ages[0]}-{s.ages[1]}"
            print(
                f"{s.id:48} {s.minutes:3}  {ages:5}  {s.seed:24}  {s.ask_points:4}  "
                f"{s.choice_points:7}  {s.title}"
            )
    return 0


MADE_UP: Final = ("freeform", "bad-dream")
"""Stories made up together, which `tell` takes in the place of an id."""


def cmd_tell(args: argparse.Namespace) -> int:
    from companion.app import make_host
    from companion.storytelling.format import shorten, valid_id

    if not valid_id(args.story_id):
        raise CompanionError(
            f"{shorten(args.story_id)!r} is not a story id (lowercase letters, digits and '-'; "
            "`companion stories` lists them)"
        )
    config = _config(args)
    host = make_host(config)
    if args.listener:
        host.listeners = tuple(args.listener)
    made_up = args.story_id in MADE_UP
    story = host.stories.get(args.story_id)
    if story is None and not made_up:
        known = ", ".join([*sorted(host.stories), *MADE_UP])
        raise CompanionError(f"no story with id {args.story_id!r} (known: {known})")
    told = args.story_id if made_up or story is None else story
    if args.text:
        from companion.host import tell_text

        tell_text(host, told, lambda: sys.stdin.readline() or None, sys.stdout)
        return 0
    companion = _companion(args, config, host)
    _stop_on_sigterm()
    try:
        first = host.start_made_up(told) if isinstance(told, str) else host.start_story(told)
        companion.run(first=first)
    except KeyboardInterrupt:
        logger.info("stopped")
    return 0


def cmd_journal(args: argparse.Namespace) -> int:
    from companion.app import open_store
    from companion.state.store import journal_markdown

    store = open_store()
    if args.delete is not None:
        if not store.delete_entry(args.delete):
            raise CompanionError(f"no journal entry {args.delete} (`companion journal` shows them)")
        store.close()
        print(f"journal entry {args.delete} deleted")
        return 0
    print(journal_markdown(store.journal(args.nights)))
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from companion.app import Speaker, load_voice
    from companion.audio.files import WavOutput
    from companion.speech.tts import PhraseCache

    config = _config(args)
    text = args.text.strip()
    if not text:
        raise CompanionError("nothing to say: TEXT is empty")
    tts, role = load_voice(config)
    if args.out is None:
        from companion.audio.devices import DeviceOutput

        speaker = DeviceOutput(config.audio.output_device, cap=config.volume.day)
        try:
            Speaker(tts, speaker, role, PhraseCache()).say(text)
            speaker.wait()
        finally:
            speaker.close()
        return 0
    out = WavOutput(args.out, rate=tts.sample_rate, cap=config.volume.day)
    Speaker(tts, out, role, PhraseCache()).say(text)
    try:
        out.close()
    except OSError as err:
        raise CompanionError(f"{args.out}: cannot write ({err.strerror})") from None
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from companion.app import open_store
    from companion.state.report import night_report

    if args.night is not None:
        try:
            date.fromisoformat(args.night)
        except ValueError:
            raise CompanionError(f"--night {args.night!r} is not a date like 2026-12-05") from None
    print(night_report(open_store(), args.night))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from companion.config import init_config, user_config_path

    path = Path(args.path) if args.path else user_config_path()
    written = init_config(path, args.family, args.bedtime)
    print(f"wrote {written}; `companion schedule` shows the nights it plans")
    return 0


def _stop_on_sigterm() -> None:
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _companion(args: argparse.Namespace, config, host=None):
    """The loop on the configured devices, or on --input-wav / --output-wav."""
    from companion.app import Companion
    from companion.audio.devices import DeviceInput, DeviceOutput
    from companion.audio.files import WavInput, WavOutput
    from companion.events import EventLog

    events = None
    if args.events:
        try:
            events = EventLog(args.events)
        except OSError as err:
            raise CompanionError(f"--events {args.events}: cannot write ({err.strerror})") from None
    if args.room is not None:
        from companion.audio.room import SimulatedRoom

        if not args.input_wav:
            raise CompanionError("--room needs --input-wav (the room's sound without the speaker)")
        if not -60.0 <= args.room <= 6.0:
            raise CompanionError(f"--room {args.room:g}: the echo level is a dB from -60 to 6")
        room = SimulatedRoom(args.input_wav, args.output_wav, args.room, cap=config.volume.day)
        return Companion(config, room, room, half_duplex=True, brain=host, events=events)
    audio_in = (
        WavInput(args.input_wav) if args.input_wav else DeviceInput(config.audio.input_device)
    )
    audio_out = (
        WavOutput(args.output_wav, cap=config.volume.day)
        if args.output_wav
        else DeviceOutput(config.audio.output_device, cap=config.volume.day)
    )
    live = not args.output_wav
    return Companion(config, audio_in, audio_out, half_duplex=live, brain=host, events=events)


def _log_tonight(config) -> None:  # type: ignore[no-untyped-def]
    """One line at start: when tonight's wind-down begins, and where that plan comes from."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from companion.routine.plan import night_plan

    today = datetime.now(ZoneInfo(config.timezone)).date()
    plan = night_plan(config, today)
    source = config.path or "the built-in defaults"
    if plan is None:
        logger.info("no routine tonight: no bedtime for %s in %s", f"{today:%A}", source)
    else:
        logger.info(
            "tonight: wind-down at %s, bedtime %s (%s, %s)",
            f"{plan.wind_down_at:%H:%M}",
            f"{plan.bedtime:%H:%M}",
            plan.mode,
            source,
        )


def cmd_run(args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from companion.config import Config, find_config
    from companion.routine.plan import night_plan
    from companion.routine.scheduler import ConfigWatcher, RoutineScheduler

    if args.mode and not args.now:
        raise CompanionError("--mode goes with --now (tonight's mode is in the config)")
    config = _config(args)
    companion = _companion(args, config)
    host = companion.host
    scheduler = watcher = None
    if host is not None and args.now:
        today = datetime.now(ZoneInfo(config.timezone)).date()
        plan = night_plan(config, today, args.mode)
        if plan is None:
            raise CompanionError(f"no bedtime is set for {today:%A} (see [bedtime] in the config)")
        host.post_night(plan, rehearsal=True)
    elif host is not None and host.store is not None and not args.input_wav:
        scheduler = RoutineScheduler(config, host.store, host.post_night)
        scheduler.start()
        _log_tonight(config)
        path = find_config(getattr(args, "config", None))
        if path is not None:

            def apply(new: Config) -> None:
                scheduler.replan(new)
                host.update_config(new)

            watcher = ConfigWatcher(path, apply)
            watcher.start()
    _stop_on_sigterm()
    try:
        companion.run(drain=args.now)
    except KeyboardInterrupt:
        logger.info("stopped")
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if watcher is not None:
            watcher.stop()
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from companion.routine.plan import plans

    config = _config(args)
    if not 1 <= args.days <= 366:
        raise CompanionError("--days must be from 1 to 366")
    nights = plans(config, datetime.now(ZoneInfo(config.timezone)).date(), args.days)
    if args.json:
        shown = [n.to_json() | {"wake_at": _wake_after(config, n.night)} for n in nights]
        print(json.dumps(shown, indent=1))
        return 0
    if config.path is None:
        print(
            "plan from the built-in defaults; write ~/.config/companion/companion.toml "
            "(`companion init`) to change them"
        )
    else:
        print(f"plan from {config.path}")
    if not nights:
        print("no bedtime is set, so there is no nightly routine (add a [bedtime] table)")
    for n in nights:
        steps = ", ".join(f"{s.at:%H:%M} {s.step}" for s in n.steps)
        wake = _wake_after(config, n.night)
        morning = f", wake-up {wake[11:16]}" if wake else ""
        print(f"{n.night:%a %d %b}  {n.mode:8}  bedtime {n.bedtime:%H:%M}  {steps}{morning}")
    return 0


def _wake_after(config, night) -> str | None:  # type: ignore[no-untyped-def]
    """The morning after `night`'s wake-up time (ISO), or None when none is set."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    day = night + timedelta(days=1)
    at = config.wake_on(f"{day:%A}".lower())
    if at is None:
        return None
    return datetime.combine(day, at, ZoneInfo(config.timezone)).isoformat()


def cmd_install_service(args: argparse.Namespace) -> int:
    from companion.service import install_service

    return install_service(args.config)


def cmd_devices(args: argparse.Namespace) -> int:
    from companion.audio.devices import find_device, list_devices
    from companion.audio.soundserver import server_devices

    config = _config(args)
    devices = list_devices()
    if not devices:
        print("no sound devices found (is the sound card connected? is PulseAudio running?)")
    for d in devices:
        kinds = []
        if d["max_input_channels"]:
            kinds.append("in")
        if d["max_output_channels"]:
            kinds.append("out")
        print(
            f"{d['index']:3}  {'/'.join(kinds):6}  {int(d['default_samplerate']):6} Hz  {d['name']}"
        )
    served = server_devices()
    if served:
        print("\nthe sound server's own speakers (out) and microphones (in), by name:")
        for s in served:
            kind = "out" if s.kind == "output" else "in (records a speaker)" if s.monitor else "in"
            print(f"  {kind:22}  {s.name}  ({s.description})")
        print()
    for kind, wanted, setting in (
        ("input", config.audio.input_device, "audio.input_device"),
        ("output", config.audio.output_device, "audio.output_device"),
    ):
        try:
            chosen = find_device(wanted, kind)["name"]
        except CompanionError as err:
            chosen = f"none ({err.message})"
        print(f'{setting} = "{wanted or "default"}" → {chosen}')
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
    from companion.paths import data_dir
    from companion.speech.tts import load_voice_roles, voice_files

    voices = data_dir("voices")
    roles = load_voice_roles(voices)
    for name, path in voice_files(voices).items():
        used = [r for r, role in roles.items() if role.voice == name]
        print(f"{name:28} {path}{'  ← ' + ', '.join(used) if used else ''}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from companion.bench import run_bench

    if not 0.5 <= args.room_minutes <= 600:
        raise CompanionError("--room-minutes must be from 0.5 to 600")
    result = run_bench(
        _config(args),
        rounds=max(1, args.rounds),
        room_minutes=args.room_minutes,
        quick=args.quick,
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")
    return 0


COMMANDS = {
    "run": cmd_run,
    "hear": cmd_hear,
    "say": cmd_say,
    "init": cmd_init,
    "report": cmd_report,
    "check-config": cmd_check_config,
    "devices": cmd_devices,
    "voices": cmd_voices,
    "bench": cmd_bench,
    "stories": cmd_stories,
    "tell": cmd_tell,
    "journal": cmd_journal,
    "schedule": cmd_schedule,
    "install-service": cmd_install_service,
}
