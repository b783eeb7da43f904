#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Measure ssocreds against the stdlib floor and boto3, reproducibly.

    python3 bench.py [--runs N] [--python PATH] [--json]

Starts the fake Identity Center on 127.0.0.1 with a throwaway HOME (an
sso-session profile "demo" and a fresh login), then times whole processes,
interleaved (A B C, B C A, ...) after a warm-up, and prints medians, ratios
and the targets in one markdown table with the machine and Python version.
Peak RSS is read per process with os.wait4.  boto3/botocore are measured only
when the measured interpreter can import them.

Every process runs in a fresh virtual environment of the measured
interpreter (no pip, no .pth files: site-packages hooks of the host, such as
one that imports certifi at every start, would otherwise dominate), with the
interpreter's own site-packages on PYTHONPATH so boto3 stays importable;
--no-venv measures the interpreter as it is.  Use the real interpreter binary
for --python: pyenv's "python3" shim adds about 0.2 s to every process.

The ssocreds command is run as setup.py installs it on POSIX (a three-line
script importing only ssocreds), from compiled bytecode; it is also timed
with a quoted sso-session name, with a 2,000-profile config, through pip's
console-script template (which imports re), as `python -c`, and vendored
(`python -m ssocreds` from a compiled copy, and `python ssocreds.py`).
`serve` is loaded with 64 keep-alive clients, alone and beside 500 idle
connections.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import fakesso

HERE = os.path.dirname(os.path.abspath(__file__))

# the installed "ssocreds" command on POSIX, exactly as setup.py writes it
COMMAND_SCRIPT = """\
import sys
from ssocreds import main
sys.exit(main())
"""

# pip's console-script template (what an entry point would run), to compare
PIP_TEMPLATE = """\
import re
import sys
from ssocreds import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""

# one profile of a big config, as a populated ~/.aws/config looks (and the
# sso-session they share, its name quoted as the AWS CLI writes names with
# spaces); BIG_QUOTED quotes every profile name too
BIG_PROFILE = """\
# account {n}
[profile account-{n}.Role{n}]
sso_session = corp sso
sso_account_id = {account:012d}
sso_role_name = Role{n}
services = svc-{n}
region = eu-west-1

[services svc-{n}]
sts =
  endpoint_url = https://sts.eu-west-1.amazonaws.com
"""
BIG_SESSION = """\
[sso-session 'corp sso']
sso_start_url = https://d-0000000000.awsapps.com/start
sso_region = us-east-1
"""

FLOOR_SCRIPT = """\
import json, urllib.request
req = urllib.request.Request(%r, headers={"x-amz-sso_bearer_token": %r})
print(json.load(urllib.request.urlopen(req, timeout=10))["roleCredentials"]["accessKeyId"])
"""

BOTO3_SCRIPT = """\
import boto3
creds = boto3.Session(profile_name="demo").get_credentials().get_frozen_credentials()
print(creds.access_key)
"""

INPROCESS_SCRIPT = """\
import sys, timeit
kind = sys.argv[1]
if kind == "ssocreds":
    import ssocreds
    cache = ssocreds.from_profile("demo")
    call = cache.retrieve
else:
    import botocore.session
    creds = botocore.session.Session(profile="demo").get_credentials()
    call = creds.get_frozen_credentials
call()
number = 20000
best = min(timeit.repeat(call, number=number, repeat=5))
print(best / number * 1e9)
"""

THREAD_HERD_SCRIPT = """\
import threading, ssocreds
cache = ssocreds.from_profile("demo")
barrier = threading.Barrier(50)
def work():
    barrier.wait()
    cache.retrieve()
threads = [threading.Thread(target=work) for _ in range(50)]
for t in threads: t.start()
for t in threads: t.join()
"""

TARGETS = {
    "cold_vs_floor": 1.10, "cold_vs_boto3": 0.25,
    "import_us": 5000, "rss_vs_floor": 1.05, "serve_idle_p99": 2.0,
    "command_vs_pass": 1.25, "big_vs_small": 1.10,
}


def load_round(port, token, paths, clients, requests):
    """``clients`` keep-alive clients, client i asking for paths[i % n],
    ``requests`` times each; (requests per second, p50 ms, p99 ms)."""
    import http.client
    import threading

    latencies, lock = [], threading.Lock()

    def client(path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(requests):
            start = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": token})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError("serve answered %d" % response.status)
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(paths[i % len(paths)],))
               for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return (len(latencies) / elapsed, latencies[len(latencies) // 2] * 1000,
            latencies[int(len(latencies) * 0.99)] * 1000)


def start_serve(python, env, profiles):
    """`ssocreds serve` for ``profiles``; (process, port, token)."""
    args = []
    for name in profiles:
        args += ["--profile", name]
    proc = subprocess.Popen(
        [python, "-c", "import sys; from ssocreds import main; sys.exit(main())",
         "serve"] + args, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, universal_newlines=True)
    url = proc.stdout.readline().strip().split("=", 1)[1]
    token = proc.stdout.readline().strip().split("=", 1)[1]
    return proc, int(url.split(":")[2].split("/")[0]), token


def serve_load(python, env, clients=64, requests=50, idle=500):
    """`ssocreds serve` under load: ``clients`` keep-alive clients making
    ``requests`` requests each, first alone, then while ``idle`` idle
    connections are held open.  Returns throughput and p50/p99 latencies."""
    import socket

    proc, port, token = start_serve(python, env, ["demo"])
    try:
        load_round(port, token, ["/credentials"], clients, requests)  # warm-up
        results = dict(zip(("serve_rps", "serve_p50_ms", "serve_p99_ms"),
                           load_round(port, token, ["/credentials"], clients,
                                      requests)),
                       serve_requests=requests, serve_idle=idle,
                       serve_clients=clients)
        held = [socket.create_connection(("127.0.0.1", port), timeout=30)
                for _ in range(idle)]
        results.update(zip(("serve_idle_rps", "serve_idle_p50_ms",
                            "serve_idle_p99_ms"), load_round(
                                port, token, ["/credentials"], clients,
                                requests)))
        for sock in held:
            sock.close()
        return results
    finally:
        proc.terminate()
        proc.wait()


def serve_many(python, env, fake, profiles=20, clients=64, requests=20):
    """One server for ``profiles`` profiles (each its own account and role
    of one sso-session), ``clients`` clients spread over them: the portal
    calls it took (one per profile is right) and the latencies."""
    names = []
    with open(env["AWS_CONFIG_FILE"], "a") as f:
        for n in range(profiles):
            account = "%012d" % (222200000000 + n)
            fake.accounts[account] = {"name": "many-%d" % n, "email": "m@x",
                                      "roles": ["Many"]}
            names.append("many-%d" % n)
            f.write("\n[profile many-%d]\nsso_session = demo-session\n"
                    "sso_account_id = %s\nsso_role_name = Many\n" % (n, account))
    before = fake.calls.get("GetRoleCredentials", 0)
    proc, port, token = start_serve(python, env, names)
    try:
        paths = ["/credentials/" + name for name in names]
        rps, p50, p99 = load_round(port, token, paths, clients, requests)
    finally:
        proc.terminate()
        proc.wait()
    return {"many_profiles": profiles, "many_clients": clients,
            "many_calls": fake.calls["GetRoleCredentials"] - before,
            "many_rps": rps, "many_p50_ms": p50, "many_p99_ms": p99}


def run(cmd, env):
    """Run ``cmd``; return (seconds, peak RSS in KiB, exit status, stdout)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out,
                                stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
        out.seek(0)
        return elapsed, usage.ru_maxrss, proc.returncode, out.read().decode()


def can_import(python, module, env):
    return subprocess.run([python, "-c", "import " + module], env=env,
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def import_time_us(python, module, env):
    result = subprocess.run([python, "-X", "importtime", "-c", "import " + module],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, universal_newlines=True)
    for line in result.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    # Python 3.6 has no -X importtime: time the import in the process
    result = subprocess.run(
        [python, "-c", "import time; t = time.perf_counter(); import %s; "
         "print((time.perf_counter() - t) * 1e6)" % module], env=env,
        stdout=subprocess.PIPE, universal_newlines=True, check=True)
    return float(result.stdout)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %s, %d cores" % (platform.platform(), cpu, os.cpu_count() or 0)


def measure(python, runs, workdir, fake, env, quick=False):
    results = {}
    os.mkdir(os.path.join(workdir, "bin"))  # where an install puts it
    script = os.path.join(workdir, "bin", "ssocreds")
    with open(script, "w") as f:
        f.write(COMMAND_SCRIPT)
    template = os.path.join(workdir, "ssocreds-pip-template")
    with open(template, "w") as f:
        f.write(PIP_TEMPLATE)
    # a second HOME whose sso-session name is quoted, as the AWS CLI writes
    # names with spaces; and a 2,000-profile config for the first HOME
    quoted_env = fakesso.write_sso_home(os.path.join(workdir, "quoted"), fake,
                                        session="demo session")
    with open(quoted_env["AWS_CONFIG_FILE"]) as f:
        text = f.read().replace("[sso-session demo session]",
                                "[sso-session 'demo session']")
    with open(quoted_env["AWS_CONFIG_FILE"], "w") as f:
        f.write(text)
    quoted_env.update((k, v) for k, v in env.items() if k not in quoted_env
                      or k == "PYTHONPATH")
    big_env = dict(env, AWS_CONFIG_FILE=os.path.join(workdir, "big-config"))
    quoted_big_env = dict(env, AWS_CONFIG_FILE=os.path.join(workdir,
                                                            "big-quoted"))
    with open(env["AWS_CONFIG_FILE"]) as f:
        small = f.read()
    big = "".join(BIG_PROFILE.format(n=n, account=111122223333 + n)
                  for n in range(2000)) + BIG_SESSION
    with open(big_env["AWS_CONFIG_FILE"], "w") as f:
        f.write(big + small)
    with open(quoted_big_env["AWS_CONFIG_FILE"], "w") as f:
        f.write(big.replace("[profile account-", "[profile 'account ").replace(
            "]\nsso_session", "']\nsso_session") + small)
    vendored = os.path.join(workdir, "vendored")
    os.mkdir(vendored)
    shutil.copy(os.path.join(HERE, "ssocreds.py"), vendored)
    subprocess.run([python, "-m", "compileall", "-q", vendored], check=True)
    floor = os.path.join(workdir, "floor.py")
    with open(floor, "w") as f:
        f.write(FLOOR_SCRIPT % (fake.url + "/federation/credentials?account_id="
                                "111122223333&role_name=ReadOnly",
                                "demo-access-token"))
    boto3_script = os.path.join(workdir, "boto3_creds.py")
    with open(boto3_script, "w") as f:
        f.write(BOTO3_SCRIPT)
    has_boto3 = not quick and can_import(python, "boto3", env)
    cli_cache = os.path.join(env["HOME"], ".aws", "cli", "cache")

    def clear_cache():
        shutil.rmtree(cli_cache, ignore_errors=True)

    args = ["export", "--profile", "demo"]
    export = [python, script] + args
    direct = [python, "-c", "import sys; from ssocreds import main; "
              "sys.exit(main())"] + args
    vendored_env = dict(env, PYTHONPATH=vendored)
    commands = {  # name: (command, run before, environment)
        "cold_export": (export, clear_cache, env),
        "floor": ([python, floor], None, env),
        "warm_export": (export, None, env),
        "warm_quoted": (export, None, quoted_env),
        "warm_big": (export, None, big_env),
        "warm_big_quoted": (export, None, quoted_big_env),
        "warm_template": ([python, template] + args, None, env),
        "warm_direct": (direct, None, env),
        "warm_script": ([python, os.path.join(vendored, "ssocreds.py")] + args,
                        None, vendored_env),
        "warm_module": ([python, "-m", "ssocreds"] + args, None, vendored_env),
        "pass": ([python, "-c", "pass"], None, env),
    }
    if has_boto3:
        commands["boto3"] = ([python, boto3_script], None, env)
        commands["boto3_big"] = ([python, boto3_script], None, big_env)
    samples = {name: [] for name in commands}
    rss = {name: [] for name in commands}
    names = list(commands)
    warmup = min(2, runs)
    for i in range(runs + warmup):  # warm-up rounds, then interleaved runs
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            cmd, before, cmd_env = commands[name]
            if name.startswith("warm") and not os.path.isdir(cli_cache):
                run(export, env)  # make sure the cache is warm
            if before:
                before()
            seconds, peak, status, out = run(cmd, cmd_env)
            if status != 0:
                raise RuntimeError("%s failed (exit %d): %s" % (name, status, out))
            if i >= warmup:
                samples[name].append(seconds)
                rss[name].append(peak)
    for name in names:
        results[name + "_ms"] = statistics.median(samples[name]) * 1000
        results[name + "_rss_kib"] = statistics.median(rss[name])
    results["import_ssocreds_us"] = statistics.median(
        import_time_us(python, "ssocreds", env) for _ in range(runs))
    if has_boto3:
        results["import_boto3_us"] = statistics.median(
            import_time_us(python, "boto3", env) for _ in range(min(3, runs)))
    inprocess = os.path.join(workdir, "inprocess.py")
    with open(inprocess, "w") as f:
        f.write(INPROCESS_SCRIPT)
    out = subprocess.run([python, inprocess, "ssocreds"], env=env,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    results["retrieve_ns"] = float(out)
    if not quick and can_import(python, "botocore", env):
        out = subprocess.run([python, inprocess, "botocore"], env=env,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        results["botocore_frozen_ns"] = float(out)
    # herds: one portal call for 50 threads, and for 16 cold processes
    fake.delays["GetRoleCredentials"] = 0.1  # widen the race window
    before = fake.calls.get("GetRoleCredentials", 0)
    subprocess.run([python, "-c", THREAD_HERD_SCRIPT], env=env, check=True)
    results["herd_threads_calls"] = fake.calls["GetRoleCredentials"] - before
    clear_cache()
    before = fake.calls["GetRoleCredentials"]
    procs = [subprocess.Popen(export, env=env, stdout=subprocess.DEVNULL)
             for _ in range(16)]
    for proc in procs:
        proc.wait()
    results["herd_processes_calls"] = fake.calls["GetRoleCredentials"] - before
    fake.delays.clear()
    results.update(serve_load(python, env, clients=8 if quick else 64,
                              requests=3 if quick else 50,
                              idle=20 if quick else 500))
    results.update(serve_many(python, env, fake, profiles=4 if quick else 20,
                              clients=8 if quick else 64,
                              requests=3 if quick else 20))
    return results


def table(results, python_version, runs, venv):
    r = results

    def ratio(a, b):
        return r[a] / r[b] if b in r and a in r else None

    rows = []

    def row(what, ours, base, value, target, fmt="%.2f", lower=True):
        if value is None:
            rows.append((what, ours, base, "n/a", "≤ %s" % TARGETS[target],
                         "n/a"))
            return
        met = value <= TARGETS[target] if lower else value == TARGETS[target]
        rows.append((what, ours, base, fmt % value, "≤ %s" % TARGETS[target],
                     "yes" if met else "**no**"))

    ms = "%.1f ms"
    row("cold `ssocreds export` vs urllib floor", ms % r["cold_export_ms"],
        ms % r["floor_ms"], ratio("cold_export_ms", "floor_ms"), "cold_vs_floor")
    row("cold `ssocreds export` vs boto3", ms % r["cold_export_ms"],
        ms % r["boto3_ms"] if "boto3_ms" in r else "n/a",
        ratio("cold_export_ms", "boto3_ms"), "cold_vs_boto3")
    row("warm `ssocreds export` (installed command) vs `python -c pass`",
        ms % r["warm_export_ms"], ms % r["pass_ms"],
        ratio("warm_export_ms", "pass_ms"), "command_vs_pass")
    row("the same, sso-session name quoted", ms % r["warm_quoted_ms"],
        ms % r["pass_ms"], ratio("warm_quoted_ms", "pass_ms"), "command_vs_pass")
    row("the same, 2,000-profile config vs one profile", ms % r["warm_big_ms"],
        ms % r["warm_export_ms"], ratio("warm_big_ms", "warm_export_ms"),
        "big_vs_small")
    rows.append(("the same, 2,000 quoted profile names (worst case)",
                 ms % r["warm_big_quoted_ms"], ms % r["warm_export_ms"],
                 "%.2f" % ratio("warm_big_quoted_ms", "warm_export_ms"), "", ""))
    if "boto3_big_ms" in r:
        rows.append(("boto3 (cold), 2,000-profile config vs one profile",
                     ms % r["boto3_big_ms"], ms % r["boto3_ms"], "%.2f" % ratio(
                         "boto3_big_ms", "boto3_ms"), "", ""))
    for name, what in (
            ("warm_direct", "`python -c \"from ssocreds import main…\"`"),
            ("warm_template", "through pip's console-script template"),
            ("warm_module", "vendored: `python -m ssocreds` (compiled)"),
            ("warm_script", "vendored: `python ssocreds.py`")):
        rows.append(("warm export, " + what, ms % r[name + "_ms"],
                     ms % r["pass_ms"], "%.2f" % ratio(name + "_ms", "pass_ms"),
                     "", ""))
    boto_import = ("%.0f µs (boto3)" % r["import_boto3_us"]
                   if "import_boto3_us" in r else "n/a")
    row("`import ssocreds`, cumulative", "%.0f µs" % r["import_ssocreds_us"],
        boto_import, r["import_ssocreds_us"], "import_us", fmt="%.0f µs")
    row("peak RSS, cold export vs floor", "%.1f MiB" % (
        r["cold_export_rss_kib"] / 1024), "%.1f MiB" % (r["floor_rss_kib"] / 1024),
        ratio("cold_export_rss_kib", "floor_rss_kib"), "rss_vs_floor")
    lines = [
        "ssocreds benchmark: %s, Python %s%s, %d interleaved runs (median)" % (
            time.strftime("%Y-%m-%d"), python_version,
            " (fresh venv)" if venv else "", runs),
        "", "Machine: " + machine(), "",
        "| measurement | ssocreds | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| %s | %s | %s | %s | %s | %s |" % row_ for row_ in rows]
    botocore = ("%.0f ns (botocore `get_frozen_credentials`)" % r[
        "botocore_frozen_ns"] if "botocore_frozen_ns" in r else "n/a")
    lines.append("| warm `CredentialsCache.retrieve()` per call | %.0f ns | %s | "
                 "| | |" % (r["retrieve_ns"], botocore))
    for key, what in (("herd_threads_calls", "50 threads, cold cache"),
                      ("herd_processes_calls", "16 cold `export` processes")):
        lines.append("| %s: portal calls | %d | | | = 1 | %s |" % (
            what, r[key], "yes" if r[key] == 1 else "**no**"))
    lines.append("| `serve`: %d keep-alive clients × %d requests | %.0f req/s, "
                 "p50 %.2f ms, p99 %.2f ms | | | | |" % (
                     r["serve_clients"], r["serve_requests"], r["serve_rps"],
                     r["serve_p50_ms"],
                     r["serve_p99_ms"]))
    idle_ratio = r["serve_idle_p99_ms"] / r["serve_p99_ms"]
    lines.append("| `serve`: the same with %d idle connections open | %.0f "
                 "req/s, p50 %.2f ms, p99 %.2f ms | p99 %.2f ms | %.2f | ≤ %s | "
                 "%s |" % (r["serve_idle"], r["serve_idle_rps"],
                           r["serve_idle_p50_ms"],
                           r["serve_idle_p99_ms"], r["serve_p99_ms"], idle_ratio,
                           TARGETS["serve_idle_p99"], "yes" if idle_ratio <=
                           TARGETS["serve_idle_p99"] else "**no**"))
    lines.append("| `serve`, %d profiles × %d clients: portal calls | %d "
                 "(%.0f req/s, p50 %.2f ms, p99 %.2f ms) | | | = %d | %s |" % (
                     r["many_profiles"], r["many_clients"], r["many_calls"],
                     r["many_rps"], r["many_p50_ms"], r["many_p99_ms"],
                     r["many_profiles"], "yes" if r["many_calls"] ==
                     r["many_profiles"] else "**no**"))
    lines += ["", "Process medians: " + ", ".join(
        "%s %.1f ms" % (name, r[name + "_ms"]) for name in (
            "pass", "warm_direct", "warm_export", "warm_quoted", "warm_big",
            "warm_big_quoted",
            "warm_template", "warm_module", "warm_script", "floor",
            "cold_export", "boto3", "boto3_big") if name + "_ms" in r)]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-venv", action="store_true",
                        help="run the interpreter as it is, site hooks and all")
    parser.add_argument("--quick", action="store_true",
                        help="no boto3 and a small serve load (a smoke test, "
                        "not figures)")
    args = parser.parse_args(argv)
    python = os.path.realpath(shutil.which(args.python) or args.python)
    info = json.loads(subprocess.run(
        [python, "-c", "import json, platform, sysconfig; print(json.dumps(["
         "platform.python_version(), sysconfig.get_paths()['purelib'], "
         "sysconfig.get_paths()['platlib']]))"],
        stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout)
    version, purelib, platlib = info
    with fakesso.FakeIdentityCenter() as fake, \
            tempfile.TemporaryDirectory() as workdir:
        home = os.path.join(workdir, "home")
        os.mkdir(home)
        env = fakesso.write_sso_home(home, fake)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = HERE
        if not args.no_venv:
            venv = os.path.join(workdir, "venv")
            subprocess.run([python, "-m", "venv", "--without-pip", venv],
                           check=True)
            python = os.path.join(venv, "bin", "python")
            env["PYTHONPATH"] = os.pathsep.join(
                [HERE] + sorted({purelib, platlib}))
        # measure from bytecode, as an installed module runs
        subprocess.run([python, "-c", "import py_compile; py_compile.compile("
                        "%r, doraise=True)" % os.path.join(HERE, "ssocreds.py")],
                       check=True)
        results = measure(python, max(1, args.runs), workdir, fake, env,
                          args.quick)
    results["python"] = version
    results["runs"] = args.runs
    results["venv"] = not args.no_venv
    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        print(table(results, version, args.runs, results["venv"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
