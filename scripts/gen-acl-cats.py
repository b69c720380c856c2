#!/usr/bin/python3
"""Print the rows of src/acl/acl_cats.c (command full name -> ACL
categories) from a running Redis 7.0: gen-acl-cats.py [port]."""
import sys
import redis

r = redis.Redis(port=int(sys.argv[1]) if len(sys.argv) > 1 else 6379, decode_responses=True)
r.response_callbacks.pop('COMMAND', None)
rows = []


def walk(entry):
    rows.append((entry[0], ' '.join(entry[6])))
    for sub in entry[9]:
        walk(sub)


for e in r.execute_command('COMMAND'):
    walk(e)
for name, cats in sorted(rows):
    print('    {"%s", "%s"},' % (name, cats))
