"""The discrete-event engine: ordering, cancellation, run(until), SimScheduler, speed."""

import time

import pytest

from synack.sim.engine import SimScheduler, Simulator


def test_events_run_in_time_order_with_the_clock_set_to_each_time():
    sim = Simulator()
    seen = []
    for when in (3.0, 1.0, 2.5, 0.5):
        sim.call_at(when, lambda w=when: seen.append((w, sim.now)))
    sim.run()
    assert seen == [(0.5, 0.5), (1.0, 1.0), (2.5, 2.5), (3.0, 3.0)]


def test_same_time_events_run_in_insertion_order():
    sim = Simulator()
    seen = []
    for i in range(100):
        sim.call_at(1.0, lambda i=i: seen.append(i))
    sim.run()
    assert seen == list(range(100))


def test_events_scheduled_while_running_for_now_run_after_those_already_queued():
    sim = Simulator()
    seen = []
    sim.call_at(1.0, lambda: (seen.append("a"), sim.call_later(0.0, lambda: seen.append("c"))))
    sim.call_at(1.0, lambda: seen.append("b"))
    sim.run()
    assert seen == ["a", "b", "c"]


def test_call_later_is_relative_to_now_and_the_past_means_now():
    sim = Simulator()
    sim.run(until=10.0)
    t = sim.call_later(2.0, lambda: None)
    assert t.when == 12.0
    assert sim.call_at(3.0, lambda: None).when == 10.0
    with pytest.raises(ValueError):
        sim.call_at(float("nan"), lambda: None)


def test_a_cancelled_timer_never_fires_and_is_not_pending():
    sim = Simulator()
    seen = []
    t = sim.call_at(1.0, lambda: seen.append("x"))
    sim.call_at(2.0, lambda: seen.append("y"))
    assert sim.pending() == 2 and t.active
    t.cancel()
    t.cancel()  # idempotent
    assert sim.pending() == 1 and not t.active
    sim.run()
    assert seen == ["y"] and sim.pending() == 0


def test_cancelling_a_fired_timer_is_harmless():
    sim = Simulator()
    t = sim.call_at(1.0, lambda: None)
    sim.run()
    t.cancel()
    assert sim.pending() == 0 and not t.active


def test_an_event_can_cancel_a_later_one_at_the_same_time():
    sim = Simulator()
    seen = []
    victim = sim.call_at(1.0, lambda: seen.append("victim"))
    sim.call_at(0.5, victim.cancel)
    sim.run()
    assert seen == []


def test_run_until_stops_before_later_events_and_sets_the_clock_to_until():
    sim = Simulator()
    seen = []
    sim.call_at(1.0, lambda: seen.append(1))
    sim.call_at(2.0, lambda: seen.append(2))  # exactly at `until`: runs
    sim.call_at(3.0, lambda: seen.append(3))
    sim.run(until=2.0)
    assert seen == [1, 2] and sim.now == 2.0 and sim.pending() == 1
    sim.run(until=2.5)
    assert seen == [1, 2] and sim.now == 2.5
    sim.run()
    assert seen == [1, 2, 3] and sim.now == 3.0


def test_run_until_on_an_empty_queue_advances_the_clock():
    sim = Simulator()
    sim.run(until=60.0)
    assert sim.now == 60.0
    with pytest.raises(ValueError):
        sim.run(until=59.0)


def test_run_without_until_leaves_the_clock_at_the_last_event():
    sim = Simulator()
    sim.call_at(4.0, lambda: None)
    sim.run()
    assert sim.now == 4.0


def test_max_events_stops_early_without_advancing_to_until():
    sim = Simulator()
    seen = []
    for i in range(5):
        sim.call_at(float(i + 1), lambda i=i: seen.append(i))
    sim.run(until=100.0, max_events=2)
    assert seen == [0, 1] and sim.now == 2.0
    sim.run(max_events=0)
    assert seen == [0, 1]


def test_step_runs_exactly_one_live_event():
    sim = Simulator()
    seen = []
    sim.call_at(1.0, lambda: seen.append(1)).cancel()
    sim.call_at(2.0, lambda: seen.append(2))
    assert sim.step() is True and seen == [2] and sim.now == 2.0
    assert sim.step() is False


def test_peek_skips_cancelled_entries():
    sim = Simulator()
    sim.call_at(1.0, lambda: None).cancel()
    sim.call_at(2.0, lambda: None)
    assert sim.peek() == 2.0


def test_run_from_inside_an_event_is_refused():
    sim = Simulator()
    sim.call_at(1.0, sim.run)
    with pytest.raises(RuntimeError):
        sim.run()
    sim.call_at(2.0, lambda: None)  # the simulator is still usable afterwards
    sim.run()
    assert sim.now == 2.0


def test_an_exception_in_an_event_propagates_and_leaves_the_queue_consistent():
    sim = Simulator()
    seen = []

    def boom():
        raise KeyError("boom")

    sim.call_at(1.0, boom)
    sim.call_at(2.0, lambda: seen.append(2))
    with pytest.raises(KeyError):
        sim.run()
    assert sim.now == 1.0 and sim.pending() == 1
    sim.run()
    assert seen == [2]


def test_mass_cancellation_does_not_leave_the_heap_growing():
    sim = Simulator()
    timers = [sim.call_at(1000.0 + i, lambda: None) for i in range(10_000)]
    for t in timers:
        t.cancel()
    sim.call_at(1.0, lambda: None)
    sim.run(until=1.0)
    assert sim.pending() == 0 and len(sim._heap) < 1000


def test_scheduler_replaces_the_previous_deadline():
    sim = Simulator()
    fired = []
    s = SimScheduler(sim, lambda: fired.append(sim.now))
    s.schedule(5.0)
    s.schedule(2.0)
    assert s.deadline == 2.0 and sim.pending() == 1
    sim.run()
    assert fired == [2.0] and s.deadline is None


def test_scheduler_can_be_cleared_and_moved_later():
    sim = Simulator()
    fired = []
    s = SimScheduler(sim, lambda: fired.append(sim.now))
    s.schedule(1.0)
    s.schedule(None)
    assert s.deadline is None and sim.pending() == 0
    s.schedule(7.0)
    s.schedule(7.0)  # unchanged: still one pending event
    assert sim.pending() == 1
    sim.run()
    assert fired == [7.0]


def test_scheduler_past_deadline_fires_now():
    sim = Simulator()
    sim.run(until=10.0)
    fired = []
    s = SimScheduler(sim, lambda: fired.append(sim.now))
    s.schedule(3.0)
    sim.run()
    assert fired == [10.0]


def test_scheduler_callback_may_reschedule_itself():
    sim = Simulator()
    fired = []
    s: SimScheduler

    def tick():
        fired.append(sim.now)
        if len(fired) < 3:
            s.schedule(sim.now + 1.0)

    s = SimScheduler(sim, tick)
    s.schedule(1.0)
    sim.run()
    assert fired == [1.0, 2.0, 3.0]


def test_child_rngs_are_stable_per_name_and_independent_of_each_other():
    a1 = Simulator(7).child_rng("x").random()
    sim = Simulator(7)
    sim.child_rng("y").random()  # drawing from another stream changes nothing
    sim.rng.random()
    assert sim.child_rng("x").random() == a1
    assert Simulator(7).child_rng("y").random() != a1
    assert Simulator(8).child_rng("x").random() != a1


def test_packet_ids_increase_from_one():
    sim = Simulator()
    assert [sim.next_packet_id() for _ in range(3)] == [1, 2, 3]


def test_clock_method_reads_now():
    sim = Simulator()
    clock = sim.clock
    sim.run(until=1.5)
    assert clock() == 1.5


def test_a_sixty_second_timer_completes_instantly_in_wall_time():
    sim = Simulator()
    fired = []
    sim.call_later(60.0, lambda: fired.append(sim.now))
    t0 = time.perf_counter()
    sim.run()
    assert fired == [60.0] and time.perf_counter() - t0 < 0.1


def test_a_hundred_thousand_events_run_in_well_under_a_second():
    sim = Simulator()
    count = 0

    def tick():
        nonlocal count
        count += 1
        if count < 100_000:
            sim.call_later(0.001, tick)

    sim.call_later(0.001, tick)
    t0 = time.perf_counter()
    sim.run()
    assert count == 100_000 and time.perf_counter() - t0 < 2.0
    assert sim.now == pytest.approx(100.0)
