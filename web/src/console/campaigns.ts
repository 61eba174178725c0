// Campaigns in the console: the form of one campaign and back, what each
// state allows, and the figures of a campaign for the catalog.
import type { components } from '../api/types/openapi';
import { templateOf, textsOf } from './notices';

type S = components['schemas'];
export type Campaign = S['CampaignView'];
export type CampaignDefinition = S['CampaignDefinition'];
export type CampaignPreview = S['CampaignPreviewView'];
export type CampaignStats = S['CampaignStatsView'];
export type CampaignState = S['CampaignState'];

/** The form of one campaign; numbers and times as the inputs hold them. */
export type CampaignForm = {
  name: string;
  segmentId: string;
  purpose: 'marketing' | 'transactional';
  channels: string[];
  texts: { lang: string; text: string }[];
  template: string;
  templateLanguages: string;
  templateBody: string;
  /** `YYYY-MM-DDTHH:MM` in the browser's time zone; empty: when launched. */
  sendAt: string;
  rate: string;
  holdout: string;
};

export function emptyCampaign(): CampaignForm {
  return {
    name: '', segmentId: '', purpose: 'marketing', channels: ['whatsapp', 'email'], texts: [{ lang: 'en', text: '' }],
    template: '', templateLanguages: '', templateBody: '', sendAt: '', rate: '600', holdout: '0',
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time as a `datetime-local` input shows it, in the browser's zone. */
export function localInput(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function campaignForm(d: CampaignDefinition): CampaignForm {
  const t = d.whatsapp_template;
  return {
    name: d.name,
    segmentId: String(d.segment_id),
    purpose: d.purpose ?? 'marketing',
    channels: [...d.channels],
    texts: Object.entries(d.texts).map(([lang, text]) => ({ lang, text })),
    template: t?.name ?? '',
    templateLanguages: t ? Object.entries(t.languages).map(([l, c]) => `${l}=${c}`).join(', ') : '',
    templateBody: t?.body?.join(' | ') ?? '',
    sendAt: d.send_at ? localInput(d.send_at) : '',
    rate: String(d.rate_per_minute ?? 600),
    holdout: String(d.holdout_percent ?? 0),
  };
}

/** The definition for `f`; errors name what is wrong. */
export function campaignDefinition(f: CampaignForm): CampaignDefinition {
  const segment = Number(f.segmentId);
  if (!Number.isInteger(segment) || segment <= 0) throw new Error('choose a segment');
  const d: CampaignDefinition = {
    name: f.name.trim(),
    segment_id: segment,
    purpose: f.purpose,
    channels: f.channels as CampaignDefinition['channels'],
    texts: textsOf(f.texts),
    rate_per_minute: Number(f.rate) || 600,
    holdout_percent: Number(f.holdout) || 0,
  };
  const template = templateOf(f.template, f.templateLanguages, f.templateBody);
  if (template) d.whatsapp_template = template;
  if (f.sendAt) {
    const at = new Date(f.sendAt);
    if (Number.isNaN(at.getTime())) throw new Error(`“${f.sendAt}” is not a time`);
    d.send_at = at.toISOString();
  }
  return d;
}

/** What a campaign in `state` can be asked to do. */
export function campaignActions(state: CampaignState): ('launch' | 'pause' | 'resume' | 'cancel' | 'delete')[] {
  switch (state) {
    case 'draft': return ['launch', 'cancel', 'delete'];
    case 'scheduled': return ['pause', 'cancel'];
    case 'running': return ['pause', 'cancel'];
    case 'paused': return ['resume', 'cancel', 'delete'];
    default: return ['delete'];
  }
}

/** A campaign's figures for the catalog line. */
export function campaignFigures(s: CampaignStats): Record<string, number> {
  const sum = (m: Record<string, number> | undefined) => Object.values(m ?? {}).reduce((a, b) => a + b, 0);
  return {
    planned: s.planned, sent: s.sent, delivered: s.delivered, read: s.read, replied: s.replied,
    waiting: s.scheduled, held_out: s.held_out, skipped: sum(s.skipped), failed: sum(s.failed),
  };
}

/** Minutes and seconds of a duration, for the preview. */
export function duration(seconds: number): { minutes: number; seconds: number } {
  return { minutes: Math.floor(seconds / 60), seconds: seconds % 60 };
}
