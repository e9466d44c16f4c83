"""A fixed amount of pure-Python CPU work (not a fixed time), for the overhead comparison."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000_000
x = 0
for i in range(n):
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
print(x)
