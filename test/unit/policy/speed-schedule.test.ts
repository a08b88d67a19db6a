import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AltSpeedScheduleSettings,
  type AltSpeedState,
  altSpeedTick,
  altSpeedToggle,
  effectiveLimits,
  type LocalTime,
  localTime,
  minutesToNextChange,
  scheduleWantsAlt,
} from '../../../src/policy/speed-schedule.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SUN = 0;
const FRI = 5;
const SAT = 6;

function at(weekday: number, hh: number, mm = 0): LocalTime {
  return { weekday, minuteOfDay: hh * 60 + mm };
}

function schedule(begin: number, end: number, day = 127): AltSpeedScheduleSettings {
  return {
    'alt-speed-time-enabled': true,
    'alt-speed-time-begin': begin,
    'alt-speed-time-end': end,
    'alt-speed-time-day': day,
  };
}

/** Transmission's own construction: a bit per minute of the week, set day by day. */
function transmissionMinutes(s: AltSpeedScheduleSettings): boolean[] {
  const minutes = new Array<boolean>(10080).fill(false);
  for (let day = 0; day < 7; day++) {
    if ((s['alt-speed-time-day'] & (1 << day)) === 0) continue;
    const begin = s['alt-speed-time-begin'];
    const end = s['alt-speed-time-end'] > begin ? s['alt-speed-time-end'] : s['alt-speed-time-end'] + 1440;
    for (let i = begin; i < end; i++) minutes[(i + day * 1440) % 10080] = true;
  }
  return minutes;
}

function addMinutes(t: LocalTime, n: number): LocalTime {
  const m = (t.weekday * 1440 + t.minuteOfDay + n) % 10080;
  return { weekday: Math.floor(m / 1440), minuteOfDay: m % 1440 };
}

const scheduleSettings = fc.record({
  'alt-speed-time-enabled': fc.constant(true),
  'alt-speed-time-begin': fc.nat(1439),
  'alt-speed-time-end': fc.nat(1439),
  'alt-speed-time-day': fc.nat(127),
});
const localTimes = fc.record({ weekday: fc.nat(6), minuteOfDay: fc.nat(1439) });

describe('local time', () => {
  test('weekday and minute for any zone', () => {
    const thursday = Date.UTC(2026, 11, 3, 22, 19, 30);
    assert.deepEqual(localTime(thursday, 0), { weekday: 4, minuteOfDay: 22 * 60 + 19 });
    assert.deepEqual(localTime(thursday, 60), { weekday: 4, minuteOfDay: 23 * 60 + 19 });
    assert.deepEqual(localTime(thursday, 120), { weekday: 5, minuteOfDay: 19 });
    assert.deepEqual(localTime(Date.UTC(2026, 11, 6, 2, 0), -300), { weekday: 6, minuteOfDay: 21 * 60 });
  });

  test('property: agrees with Date in UTC shifted by the offset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: -720, max: 840 }), (ms, offset) => {
        const shifted = new Date(ms + offset * 60_000);
        assert.deepEqual(localTime(ms, offset), {
          weekday: shifted.getUTCDay(),
          minuteOfDay: shifted.getUTCHours() * 60 + shifted.getUTCMinutes(),
        });
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('the schedule', () => {
  test('a window inside one day: [begin, end)', () => {
    const s = schedule(9 * 60, 17 * 60);
    assert.equal(scheduleWantsAlt(s, at(SUN, 8, 59)), false);
    assert.equal(scheduleWantsAlt(s, at(SUN, 9)), true);
    assert.equal(scheduleWantsAlt(s, at(SUN, 16, 59)), true);
    assert.equal(scheduleWantsAlt(s, at(SUN, 17)), false);
    assert.equal(scheduleWantsAlt({ ...s, 'alt-speed-time-enabled': false }, at(SUN, 10)), undefined);
  });

  test('a window past midnight belongs to the day it starts; Saturday wraps into Sunday', () => {
    const friday = schedule(22 * 60, 6 * 60, 1 << FRI);
    assert.equal(scheduleWantsAlt(friday, at(FRI, 21, 59)), false);
    assert.equal(scheduleWantsAlt(friday, at(FRI, 22)), true);
    assert.equal(scheduleWantsAlt(friday, at(SAT, 5, 59)), true);
    assert.equal(scheduleWantsAlt(friday, at(SAT, 6)), false);
    assert.equal(scheduleWantsAlt(friday, at(SAT, 23)), false, 'Saturday is not in the mask');
    assert.equal(scheduleWantsAlt(friday, at(FRI, 3)), false, "Thursday's night is not in the mask");
    const saturday = schedule(22 * 60, 6 * 60, 1 << SAT);
    assert.equal(scheduleWantsAlt(saturday, at(SUN, 5, 59)), true);
    assert.equal(scheduleWantsAlt(saturday, at(SUN, 6)), false);
  });

  test('begin == end is a whole day from begin; an empty mask is never', () => {
    const s = schedule(600, 600, 1 << SUN);
    assert.equal(scheduleWantsAlt(s, at(SUN, 9, 59)), false);
    assert.equal(scheduleWantsAlt(s, at(SUN, 10)), true);
    assert.equal(scheduleWantsAlt(s, at(1, 9, 59)), true);
    assert.equal(scheduleWantsAlt(s, at(1, 10)), false);
    assert.equal(scheduleWantsAlt(schedule(0, 600, 0), at(SUN, 1)), false);
    assert.equal(minutesToNextChange(schedule(0, 600, 0), at(SUN, 1)), undefined);
    assert.equal(minutesToNextChange(schedule(0, 0, 127), at(SUN, 1)), undefined, 'on all week');
  });

  test('the next change', () => {
    const friday = schedule(22 * 60, 6 * 60, 1 << FRI);
    assert.equal(minutesToNextChange(friday, at(FRI, 21)), 60);
    assert.equal(minutesToNextChange(friday, at(FRI, 22)), 8 * 60);
    assert.equal(minutesToNextChange(friday, at(SAT, 6)), 6 * 24 * 60 + 16 * 60);
  });

  test("property: the same minutes as Transmission's bitset", () => {
    fc.assert(
      fc.property(scheduleSettings, localTimes, (s, t) => {
        const bits = transmissionMinutes(s);
        assert.equal(scheduleWantsAlt(s, t), bits[t.weekday * 1440 + t.minuteOfDay]);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  test('property: nothing changes before the next change, and something changes then', () => {
    fc.assert(
      fc.property(scheduleSettings, localTimes, (s, t) => {
        const now = scheduleWantsAlt(s, t);
        const step = minutesToNextChange(s, t);
        const bits = transmissionMinutes(s);
        const base = t.weekday * 1440 + t.minuteOfDay;
        const limit = step ?? 10080;
        for (let k = 1; k < limit; k++) assert.equal(bits[(base + k) % 10080], now, `changed after ${k} min`);
        if (step !== undefined) assert.equal(scheduleWantsAlt(s, addMinutes(t, step)), !now);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the turtle toggle', () => {
  const night = schedule(22 * 60, 6 * 60, 127);

  test('the schedule switches at its boundaries; a user toggle lasts until the next one', () => {
    let state: AltSpeedState = { active: false, lastScheduled: undefined };
    state = altSpeedTick(state, night, at(SUN, 12));
    assert.deepEqual(state, { active: false, lastScheduled: false, changed: false });
    state = altSpeedTick(state, night, at(SUN, 22));
    assert.deepEqual(state, { active: true, lastScheduled: true, changed: true });
    state = altSpeedToggle(state, false);
    state = altSpeedTick(state, night, at(SUN, 23));
    assert.equal(state.active, false, 'the user turned it off inside the window');
    state = altSpeedTick(state, night, at(1, 6));
    assert.deepEqual(state, { active: false, lastScheduled: false, changed: false });
    state = altSpeedToggle(state, true);
    state = altSpeedTick(state, night, at(1, 12));
    assert.equal(state.active, true, 'the user turned it on outside the window');
    state = altSpeedTick(state, night, at(1, 22));
    assert.equal(state.active, true);
    state = altSpeedTick(state, night, at(2, 6));
    assert.deepEqual(state, { active: false, lastScheduled: false, changed: true });
  });

  test('a schedule turned off never changes the toggle; a changed schedule applies at once', () => {
    const off = { ...night, 'alt-speed-time-enabled': false };
    const tick = altSpeedTick({ active: true, lastScheduled: false }, off, at(SUN, 12));
    assert.deepEqual(tick, { active: true, lastScheduled: false, changed: false });
    const reset = altSpeedTick({ active: true, lastScheduled: undefined }, night, at(SUN, 12));
    assert.deepEqual(reset, { active: false, lastScheduled: false, changed: true });
  });

  test('property: the toggle changes only by the user or when the schedule’s answer changes', () => {
    const steps = fc.array(
      fc.oneof(fc.record({ toggle: fc.boolean() }), fc.record({ minutes: fc.integer({ min: 1, max: 600 }) })),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(scheduleSettings, localTimes, steps, (s, start, ops) => {
        let t = start;
        let state: AltSpeedState = { active: false, lastScheduled: undefined };
        state = altSpeedTick(state, s, t);
        assert.equal(state.active, scheduleWantsAlt(s, t));
        for (const op of ops) {
          if ('toggle' in op) {
            state = altSpeedToggle(state, op.toggle);
            assert.equal(state.active, op.toggle);
            continue;
          }
          const before = scheduleWantsAlt(s, t);
          t = addMinutes(t, op.minutes);
          const wants = scheduleWantsAlt(s, t);
          const next = altSpeedTick(state, s, t);
          if (wants !== before) assert.equal(next.active, wants, 'the schedule switched');
          else assert.equal(next.active, state.active, 'no boundary: the toggle holds');
          assert.equal(next.changed, next.active !== state.active);
          state = next;
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

describe('effective limits', () => {
  const speeds = {
    'speed-limit-down': 100,
    'speed-limit-down-enabled': true,
    'speed-limit-up': 50,
    'speed-limit-up-enabled': false,
    'alt-speed-down': 20,
    'alt-speed-up': 0,
  };

  test('the normal limits when enabled, kB/s as 1000 bytes/s', () => {
    assert.deepEqual(effectiveLimits(speeds, false), {
      downBytesPerSecond: 100_000,
      upBytesPerSecond: undefined,
    });
  });

  test('the turtle limits always apply when on, 0 included', () => {
    assert.deepEqual(effectiveLimits(speeds, true), { downBytesPerSecond: 20_000, upBytesPerSecond: 0 });
  });

  test('nonsense values limit to 0, never to a negative or NaN rate', () => {
    const odd = { ...speeds, 'speed-limit-down': -5, 'alt-speed-down': Number.NaN };
    assert.equal(effectiveLimits(odd, false).downBytesPerSecond, 0);
    assert.equal(effectiveLimits(odd, true).downBytesPerSecond, 0);
  });
});
