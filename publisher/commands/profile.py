"""`publisher profile check FILE|NAME`: a profile against transformers' model of its family."""

from __future__ import annotations

import argparse

from publisher.errors import EXIT_FINDINGS, EXIT_OK, InputError

NAME = "profile"
HELP = "check an architecture profile against the model transformers builds (needs torch)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="build the profile's model from a small config (no download) and report every "
        "name or shape that differs",
    )
    check.add_argument("profiles", nargs="+", help="profile .yaml files or packaged names")
    sub.add_parser("list", help="list the packaged profiles and the model types they cover")


def run(args: argparse.Namespace) -> int:
    from publisher.spec.profile import (
        ProfileError,
        ProfileNotFound,
        available_profiles,
        is_profile_file,
        load_profile,
    )

    if args.action == "list":
        for name in available_profiles():
            profile = load_profile(name)
            types = ", ".join([profile.model_type, *profile.model_types])
            print(f"{name:14} {types:26} {profile.title}")
        return EXIT_OK
    from publisher.spec.profile_check import TorchMissing, check_profile_against_transformers

    status = EXIT_OK
    for item in args.profiles:
        target = str(__import__("pathlib").Path(item).resolve()) if is_profile_file(item) else item
        try:
            result = check_profile_against_transformers(target)
        except (ProfileError, ProfileNotFound) as error:
            raise InputError(str(error), where=item) from None
        except TorchMissing as error:
            raise InputError(str(error)) from None
        if result.ok:
            print(
                f"{item}: profile {result.profile.name} matches {result.model_class} "
                f"({result.tensors} tensors: names and shapes)"
            )
            continue
        status = EXIT_FINDINGS
        print(f"{item}: profile {result.profile.name} differs from {result.model_class}:")
        for problem in result.differences:
            print(f"  {problem}")
    return status
