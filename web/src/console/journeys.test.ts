import { describe, expect, it } from 'vitest';
import { END, addStep, emptyJourney, journeyFigures, journeyForm, journeyOf, moveStep, removeStep, type Journey } from './journeys';

const care: Journey = {
  name: 'After delivery', purpose: 'transactional', trigger: { type: 'event', event: 'delivered' },
  steps: [
    { type: 'send', channels: ['whatsapp'], texts: { es: 'Hola {{contact.name}}' } },
    { type: 'wait_for_reply', within_minutes: 2880, replied: 2, otherwise: 3 },
    { type: 'hand_off', reason: 'answered' },
    { type: 'branch', condition: { field: 'country', any_of: ['ES', 'MX'] }, then: 4, otherwise: 5 },
    { type: 'wait', minutes: 90 },
  ],
};

describe('journeys', () => {
  it('reads a journey into the form and back unchanged', () => {
    const f = journeyForm(care);
    expect(f.trigger).toBe('delivered');
    expect(f.steps[1]).toMatchObject({ amount: '2', unit: 'days', yes: 2, no: 3 });
    expect(f.steps[3]).toMatchObject({ yes: 4, no: END, field: 'country', values: 'ES, MX' });
    expect(f.steps[4]).toMatchObject({ amount: '90', unit: 'minutes' });
    expect(journeyOf(f)).toEqual(care);
  });

  it('keeps jumps on their steps when steps move, go and come', () => {
    let steps = journeyForm(care).steps;
    steps = moveStep(steps, 2, 1); // hand-off and branch swap places
    expect(steps[1]).toMatchObject({ yes: 3, no: 2 });
    expect(steps[2].type).toBe('branch');
    steps = removeStep(steps, 3); // the hand-off goes: a reply goes to the step after it
    expect(steps[1]).toMatchObject({ yes: 3, no: 2 });
    expect(steps[3].type).toBe('wait');
    steps = addStep(steps, 'tag');
    expect(steps[2]).toMatchObject({ yes: 3, no: END }, 'a jump to the end stays at the end');
    const end = removeStep(steps, steps.length - 1);
    expect(removeStep(end, end.length - 1)[1]).toMatchObject({ yes: END, no: 2 });
  });

  it('refuses a wait that is not a length of time', () => {
    const f = emptyJourney();
    f.name = 'x';
    f.steps = addStep(f.steps, 'wait');
    f.steps[1].amount = 'soon';
    expect(() => journeyOf(f)).toThrow(/not a length of time/);
    f.steps[1].amount = '3';
    f.steps[1].unit = 'hours';
    expect(journeyOf(f).steps[1]).toEqual({ type: 'wait', minutes: 180 });
  });

  it('sums the figures', () => {
    const line = journeyFigures({
      enrolled: 5, at_step: [{ step: 1, count: 2 }], left: [{ outcome: 'handed_off', count: 2 }, { outcome: 'finished', count: 1 }],
      sends: { kind: 'journey', sent: 5, delivered: 4, read: 3, replied: 2, scheduled: 0, failed: { x: 1 }, skipped: { opted_out: 2 } },
    });
    expect(line).toEqual({ enrolled: 5, inside: 2, finished: 1, handed_off: 2, opted_out: 0, sent: 5, replied: 2, skipped: 2, failed: 1 });
  });
});
