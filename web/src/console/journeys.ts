// Journeys in the console: a journey as an editable vertical list of steps
// and back, with jumps kept right as steps are added, moved and removed;
// and the figures of a journey for the catalog.
import type { components } from '../api/types/openapi';
import { templateOf, textsOf } from './notices';

type S = components['schemas'];
export type JourneyView = S['JourneyView'];
export type Journey = S['Journey'];
export type Step = S['Step'];
export type TestRunLine = S['TestRunLineView'];
export type JourneyStats = S['JourneyStatsView'];
export type StepType = Step['type'];

export const STEP_TYPES: StepType[] = ['send', 'wait', 'wait_for_reply', 'branch', 'tag', 'hand_off'];
/** Shop events a journey can start from. */
export const JOURNEY_EVENTS = ['order_confirmed', 'shipped', 'out_for_delivery', 'delivered', 'delayed', 'order_cancelled', 'refunded'] as const;
/** A jump to the end of the journey. */
export const END = -1;

type Unit = 'minutes' | 'hours' | 'days';
const UNIT_MINUTES: Record<Unit, number> = { minutes: 1, hours: 60, days: 1440 };

/** One step as the form holds it; every field is there whatever the type. */
export type StepForm = {
  type: StepType;
  channels: string[];
  texts: { lang: string; text: string }[];
  template: string;
  templateLanguages: string;
  templateBody: string;
  amount: string;
  unit: Unit;
  /** Where a reply (or a condition that holds) goes: a step's index, or END. */
  yes: number;
  /** Where no reply (or a condition that does not hold) goes. */
  no: number;
  field: 'replied' | 'country' | 'language' | 'tag';
  values: string;
  tag: string;
  reason: string;
};

export type JourneyForm = {
  name: string;
  purpose: 'marketing' | 'transactional';
  /** `manual` or an event's name. */
  trigger: string;
  steps: StepForm[];
};

/** A new step of `type`; its jumps go to the next step and the end. */
export function newStep(type: StepType, index: number): StepForm {
  return {
    type, channels: ['whatsapp', 'email'], texts: [{ lang: 'en', text: '' }], template: '', templateLanguages: '', templateBody: '',
    amount: '1', unit: 'days', yes: index + 1, no: END, field: 'country', values: '', tag: '', reason: '',
  };
}

export function emptyJourney(): JourneyForm {
  return { name: '', purpose: 'transactional', trigger: 'manual', steps: [newStep('send', 0)] };
}

function duration(minutes: number): { amount: string; unit: Unit } {
  const unit: Unit = minutes % 1440 === 0 ? 'days' : minutes % 60 === 0 ? 'hours' : 'minutes';
  return { amount: String(minutes / UNIT_MINUTES[unit]), unit };
}

function minutesOf(f: StepForm): number {
  const n = Number(f.amount);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`“${f.amount}” is not a length of time`);
  return Math.round(n * UNIT_MINUTES[f.unit]);
}

export function journeyForm(j: Journey): JourneyForm {
  const n = j.steps.length;
  const jump = (to: number) => (to >= n ? END : to);
  const steps = j.steps.map((s, i) => {
    const f = newStep(s.type, i);
    switch (s.type) {
      case 'send': {
        const t = s.whatsapp_template;
        f.channels = [...s.channels];
        f.texts = Object.entries(s.texts).map(([lang, text]) => ({ lang, text }));
        f.template = t?.name ?? '';
        f.templateLanguages = t ? Object.entries(t.languages).map(([l, c]) => `${l}=${c}`).join(', ') : '';
        f.templateBody = t?.body?.join(' | ') ?? '';
        break;
      }
      case 'wait':
        Object.assign(f, duration(s.minutes));
        break;
      case 'wait_for_reply':
        Object.assign(f, duration(s.within_minutes), { yes: jump(s.replied), no: jump(s.otherwise) });
        break;
      case 'branch':
        f.yes = jump(s.then);
        f.no = jump(s.otherwise);
        f.field = s.condition.field;
        f.values = 'any_of' in s.condition ? s.condition.any_of.join(', ') : '';
        break;
      case 'tag':
        f.tag = s.tag;
        break;
      case 'hand_off':
        f.reason = s.reason;
        break;
    }
    return f;
  });
  return { name: j.name, purpose: j.purpose, trigger: j.trigger?.type === 'event' ? j.trigger.event : 'manual', steps };
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/** The journey of a form; errors name what is wrong. */
export function journeyOf(f: JourneyForm): Journey {
  const n = f.steps.length;
  const jump = (to: number) => (to === END ? n : to);
  const steps: Step[] = f.steps.map((s) => {
    switch (s.type) {
      case 'send': {
        const step: Step = { type: 'send', channels: s.channels as never, texts: textsOf(s.texts) };
        const t = templateOf(s.template, s.templateLanguages, s.templateBody);
        if (t) step.whatsapp_template = t;
        return step;
      }
      case 'wait':
        return { type: 'wait', minutes: minutesOf(s) };
      case 'wait_for_reply':
        return { type: 'wait_for_reply', within_minutes: minutesOf(s), replied: jump(s.yes), otherwise: jump(s.no) };
      case 'branch': {
        const condition = s.field === 'replied' ? { field: 'replied' as const } : { field: s.field, any_of: list(s.values) };
        return { type: 'branch', condition: condition as never, then: jump(s.yes), otherwise: jump(s.no) };
      }
      case 'tag':
        return { type: 'tag', tag: s.tag.trim() };
      case 'hand_off':
        return { type: 'hand_off', reason: s.reason.trim() };
    }
  });
  const trigger = f.trigger === 'manual' ? { type: 'manual' as const } : { type: 'event' as const, event: f.trigger as never };
  return { name: f.name.trim(), purpose: f.purpose, trigger, steps };
}

/** Jumps renumbered by `map` (old index → new index, or null: gone → the step now there). */
function renumber(steps: StepForm[], map: (i: number) => number): StepForm[] {
  return steps.map((s) => ({ ...s, yes: s.yes === END ? END : map(s.yes), no: s.no === END ? END : map(s.no) }));
}

/** The steps with step `i` moved one place up (`-1`) or down (`1`). */
export function moveStep(steps: StepForm[], i: number, dir: -1 | 1): StepForm[] {
  const j = i + dir;
  if (j < 0 || j >= steps.length) return steps;
  const out = [...steps];
  [out[i], out[j]] = [out[j], out[i]];
  return renumber(out, (k) => (k === i ? j : k === j ? i : k));
}

/** The steps without step `i`; jumps to it go to the step after it. */
export function removeStep(steps: StepForm[], i: number): StepForm[] {
  const out = steps.filter((_, k) => k !== i);
  return renumber(out, (k) => (k > i ? k - 1 : k === i ? (i < out.length ? i : END) : k));
}

/** The steps with a new step of `type` at the end. */
export function addStep(steps: StepForm[], type: StepType): StepForm[] {
  return [...steps, newStep(type, steps.length)];
}

/** The figures line of a journey for the catalog. */
export function journeyFigures(s: JourneyStats): Record<string, number> {
  const inside = s.at_step.reduce((a, x) => a + x.count, 0);
  const left = (how: string) => s.left.find((l) => l.outcome === how)?.count ?? 0;
  const skipped = Object.values(s.sends.skipped ?? {}).reduce((a, b) => a + b, 0);
  const failed = Object.values(s.sends.failed ?? {}).reduce((a, b) => a + b, 0);
  return {
    enrolled: s.enrolled, inside, finished: left('finished'), handed_off: left('handed_off'), opted_out: left('opted_out'),
    sent: s.sends.sent, replied: s.sends.replied, skipped, failed,
  };
}
