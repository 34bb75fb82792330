"""The measuring rig of the serving benchmarks (serving_stacks.py, bot_vs_bolt.py, footprint.py).

    payloads.py   what Slack sends: v0 request signing, slash command and view_submission bodies;
                  the modal and the post text of the minimal apps; names both sides share
    standin.py    the stand-in Slack Web API (aiohttp, its own process) that records when each
                  views.open / chat.postMessage arrives; StandinClient, the load generator's side
    load.py       the load generator: closed-loop senders of signed requests, per-request latency
                  samples, a measured phase, serving_stacks.py's plan of phases
    processes.py  children in their own process groups and their CPU time, free ports, readiness
                  waits, a server's command line (Stack), starting the stand-in and the load
                  generator, one stack's run, the warnings in its log
    report.py     nearest-rank percentiles, pooling repeated runs, picking the best stack, the
                  markdown tables and serving_stacks.py's report, library versions

Nothing is imported here: import what you use from its module (`from rig.processes import
ProcessGroups`). Scripts put benchmarks/ on sys.path (running `python benchmarks/X.py` does).
The stand-in and the load generator run as `python -m rig.standin` and `python -m rig.load`,
started with benchmarks/ as their working directory.
"""
