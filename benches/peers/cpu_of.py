"""Runs a command and writes the CPU seconds of this wrapper and of the command to a file.

    python cpu_of.py OUT.json CMD ARGS...

Used by compare.py so that a tracker's own CPU time can be told apart from the workload's:
tracker CPU = everything under the tracker - this wrapper - the command.
"""
import json
import resource
import subprocess
import sys

code = subprocess.call(sys.argv[2:])
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    json.dump({"wrapper_cpu_s": me.ru_utime + me.ru_stime, "command_cpu_s": kids.ru_utime + kids.ru_stime}, f)
sys.exit(code)
