"""`reelforge process` takes exactly the API's options: its flags are made from ProcessOptions."""

from __future__ import annotations

import argparse

import pytest

from reelforge.cli import add_model_options, main, options_from_args
from reelforge.clips.schemas import ProcessOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_model_options(parser, ProcessOptions, aliases={"clip_count": ["--clips"]})
    return parser


def test_every_api_option_is_a_flag_with_its_choices() -> None:
    parser = _parser()
    flags = {a.dest: a for a in parser._actions if a.dest != "help"}
    assert set(flags) == set(ProcessOptions.model_fields)
    assert flags["aspect"].choices == ["9:16", "1:1", "16:9"]
    assert flags["layout"].choices == ["auto", "focus", "split", "fit"]
    assert flags["caption_style"].choices == ["bold", "karaoke", "minimal"]
    assert "--clips" in flags["clip_count"].option_strings
    help_text = parser.format_help()
    for flag in ("--min-duration", "--max-duration", "--aspect", "--layout", "--caption-style",
                 "--language", "--whisper-model", "--no-captions"):
        assert flag in help_text


def test_flags_become_the_same_options_the_api_would_store() -> None:
    args = _parser().parse_args(["--aspect", "1:1", "--no-captions", "--clips", "3",
                                 "--min-duration", "20", "--caption-style", "karaoke"])
    options = options_from_args(args, ProcessOptions)
    assert options == ProcessOptions(aspect="1:1", captions=False, clip_count=3, min_duration=20,
                                     caption_style="karaoke")
    assert options_from_args(_parser().parse_args([]), ProcessOptions) == ProcessOptions()


def test_out_of_range_values_are_refused_with_the_models_message() -> None:
    with pytest.raises(ValueError, match="--min-duration: Input should be greater than or equal to 5"):
        options_from_args(_parser().parse_args(["--min-duration", "2"]), ProcessOptions)
    with pytest.raises(ValueError, match="min_duration must be less than max_duration"):
        options_from_args(_parser().parse_args(["--min-duration", "50", "--max-duration", "40"]),
                          ProcessOptions)


def test_the_cli_refuses_a_bad_option_before_starting_anything(capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["process", str(tmp_path / "x.mp4"), "--out", str(tmp_path), "--aspect", "4:3"])
    assert exited.value.code == 2
    assert "invalid choice: '4:3'" in capsys.readouterr().err
