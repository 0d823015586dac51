import argparse


def build_parser():
    parser = argparse.ArgumentParser(prog="greet")
    parser.add_argument("name")
    return parser


def greeting(name):
    return f"Hello, {name}!"


def main(argv=None):
    args = build_parser().parse_args(argv)
    print(greeting(args.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
