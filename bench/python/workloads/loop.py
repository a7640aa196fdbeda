# Sustained interpreter work: a module-level integer loop (LOAD_NAME/STORE_NAME
# on the module dict, small-int and long arithmetic).  argv[1] = iterations.
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10**7
acc = 0
for i in range(n):
    acc += i*i - (i&7)
print(acc)
