#!/usr/bin/env python3
"""Runs every test_* function of every test_*.py next to this file, in
file and definition order, against the running stack. Prints one TAP-like
line per test and "# passed N failed N" last. A test that hangs is cut
off after its time limit and counted as failed."""

import importlib.util
import inspect
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
LIMIT = int(os.environ.get("QUIRE_TEST_TIMEOUT", "120"))


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("test exceeded %d s" % LIMIT)


def main(argv):
    only = argv[1:]
    files = sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    if only:
        files = [f for f in files if any(o in f for o in only)]
    signal.signal(signal.SIGALRM, on_alarm)
    n = passed = failed = 0
    for fname in files:
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            n += 1
            failed += 1
            print("not ok %d - %s (import)" % (n, fname))
            traceback.print_exc(file=sys.stdout)
            continue
        tests = [(name, fn) for name, fn in vars(mod).items()
                 if name.startswith("test_") and inspect.isfunction(fn)
                 and fn.__module__ == mod.__name__]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        for name, fn in tests:
            n += 1
            t0 = time.time()
            signal.alarm(LIMIT)
            try:
                fn()
                ok = True
            except BaseException as e:  # noqa: B902 - report everything
                if isinstance(e, KeyboardInterrupt):
                    raise
                ok = False
                err = traceback.format_exc()
            finally:
                signal.alarm(0)
            dt = time.time() - t0
            if ok:
                passed += 1
                print("ok %d - %s::%s (%.2fs)" % (n, fname, name, dt))
            else:
                failed += 1
                print("not ok %d - %s::%s (%.2fs)" % (n, fname, name, dt))
                print("    " + err.replace("\n", "\n    "))
            sys.stdout.flush()
        cleanup = getattr(mod, "teardown_module", None)
        if cleanup:
            try:
                cleanup()
            except Exception:
                traceback.print_exc(file=sys.stdout)
    print("# passed %d failed %d" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
