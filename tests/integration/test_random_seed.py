"""The process's random generator and its seed (lib/random.h, core/main.c).

Every random choice of a server (SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER,
RANDOMKEY, eviction samples, skiplist levels) comes from one generator. A
server started with KEEL_RANDOM_SEED repeats its choices exactly (the hash
seed is derived from it too, so table layouts repeat); without it both seeds
come from /dev/urandom and two servers choose differently.
"""

import pytest

from keel_helpers import Server, ServerError

pytestmark = pytest.mark.keel_only


def choices(srv):
    """A sequence of random replies that depends on the generator and, for
    the big set and RANDOMKEY, on the hash seed."""
    c = srv.client()
    c.sadd("small", *["m%d" % i for i in range(50)])      # listpack: generator only
    c.sadd("big", *["b%d" % i for i in range(2000)])      # hashtable: both seeds
    c.hset("h", mapping={"f%d" % i: i for i in range(30)})
    c.zadd("z", {"z%d" % i: i for i in range(300)})       # skiplist levels drawn
    c.execute_command("DEBUG", "POPULATE", "500", "key")
    out = [c.srandmember("small", -20), c.srandmember("big", 10), c.spop("big", 5),
           c.execute_command("HRANDFIELD", "h", -10), c.execute_command("ZRANDMEMBER", "z", 8)]
    out += [c.randomkey() for _ in range(10)]
    c.connection_pool.disconnect()
    return out


def test_same_seed_repeats_every_choice(start_server):
    a = choices(start_server(random_seed=42))
    b = choices(start_server(random_seed=42))
    assert a == b


def test_another_seed_chooses_differently(start_server):
    a = choices(start_server(random_seed=42))
    b = choices(start_server(random_seed=43))
    assert a[0] != b[0], "the generator ignored the seed"
    assert a[1] != b[1]
    assert a[5:] != b[5:], "RANDOMKEY ignored the seed"


def test_without_a_seed_servers_differ(start_server):
    # Seeded from /dev/urandom: equal 20-draw sequences out of 50 members
    # would happen with probability 50^-20.
    a = choices(start_server(random_seed=""))
    b = choices(start_server(random_seed=""))
    assert a[0] != b[0]


def test_fixed_seed_is_logged(start_server):
    srv = start_server(random_seed=7)
    assert "KEEL_RANDOM_SEED=7" in srv.log_text()


@pytest.mark.parametrize("bad", ["abc", "-1", "12x", "99999999999999999999999"])
def test_bad_seed_refuses_to_start(bad):
    srv = Server(random_seed=bad)
    with pytest.raises(ServerError):
        srv.start(timeout=5)
    assert "KEEL_RANDOM_SEED must be an unsigned decimal integer" in srv.log_text()
    srv.expected_exit = True
    srv.stop()
