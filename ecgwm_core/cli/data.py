"""``ecgwm data``: the bundled real data sets (info, validate) and the semi-synthetic twins."""
from __future__ import annotations

import argparse
import json


def _data_info(args: argparse.Namespace) -> int:
    from ..data import dataset_info

    info = dataset_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for entry in info:
        print(f"{entry['key']}: {entry['title']}")
        print(f"  contents : {entry['contents']}")
        print(f"  size     : {entry['size_bytes'] / 1e6:.2f} MB in {entry['path']}")
        print(f"  licence  : {entry['licence']}")
        print(f"  citation : {entry['citation']}")
        print(f"  source   : {entry['url']}")
    return 0


def _data_validate(args: argparse.Namespace) -> int:
    from ..data import load_clinical_table

    print(json.dumps(load_clinical_table(args.file).summary(), indent=2))  # errors: cli.main's one line
    return 0


def _data_twins(args: argparse.Namespace) -> int:
    from ..data import load_clinical_table
    from ..synthetic.twins import write_twins
    from .output import checked_folder

    if args.out:
        checked_folder(args.out)
    table = load_clinical_table(args.table)
    folder = write_twins(table.kept, folder=args.out, progress=not args.quiet)
    print(f"{len(table.kept)} semi-synthetic twins in {folder} (ECGRDVQ layout; set ECGWM_DATA={folder} to load them)")
    return 0


def add_data_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ecgwm data info|validate|twins``."""
    data = sub.add_parser("data", help="bundled real data sets").add_subparsers(
        dest="data_command", required=True, metavar="ACTION"
    )
    info = data.add_parser("info", help="list the bundled data sets: size, rows/records, licence, citation")
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=_data_info)
    validate = data.add_parser("validate", help="check an SCR-002 clinical table; print a JSON summary")
    validate.add_argument("file", help="CSV file in the ECGRDVQ SCR-002 format")
    validate.set_defaults(run=_data_validate)
    twins = data.add_parser("twins", help="render the semi-synthetic ECGRDVQ digital twins as WFDB records (cached)")
    twins.add_argument("--table", help="SCR-002 CSV (default: the bundled table or $ECGWM_DATA)")
    twins.add_argument("--out", help="output folder (default: a cache folder under $ECGWM_CACHE or ~/.cache/ecgwm)")
    twins.add_argument("--quiet", action="store_true", help="no progress bars")
    twins.set_defaults(run=_data_twins)
