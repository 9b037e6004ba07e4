from lambda_local.environments.supervision import CAP_S, Supervision


def test_exits_in_a_row_hold_the_next_start_back_doubling_up_to_the_cap():
    supervision = Supervision()
    waits = []
    for _ in range(9):
        supervision.exited(["boom"], now=100.0)
        waits.append(supervision.wait_s(now=100.0))
    assert waits == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, CAP_S, CAP_S, CAP_S]


def test_a_runtime_that_exits_at_every_start_starts_fewer_than_10_times_in_30_seconds():
    supervision = Supervision()
    now, starts = 0.0, 0
    while now < 30:
        now += supervision.wait_s(now)
        if now >= 30:
            break
        starts += 1
        supervision.exited(["exit status 3"], now=now)
        now += 0.05  # the start and exit themselves
    assert starts < 10


def test_crash_looping_after_three_exits_with_the_last_lines_and_reset_by_one_healthy_invocation():
    supervision = Supervision()
    supervision.exited(["a"], now=0)
    supervision.exited(["b"], now=0)
    assert not supervision.crash_looping
    supervision.exited(["", "INIT START", "Process runtime-1 exited: exit status 3", ""], now=0)
    assert supervision.crash_looping
    assert supervision.describe().endswith("(last: Process runtime-1 exited: exit status 3)")
    assert supervision.state()["last_lines"] == ["INIT START", "Process runtime-1 exited: exit status 3"]
    supervision.healthy()
    assert not supervision.crash_looping and supervision.wait_s(now=0) == 0.0
    assert supervision.state()["exits"] == 3
