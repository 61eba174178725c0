import { describe, expect, it } from 'vitest';
import { campaignActions, campaignDefinition, campaignFigures, campaignForm, duration, emptyCampaign, type CampaignDefinition } from './campaigns';

const spring: CampaignDefinition = {
  name: 'Spring', segment_id: 3, purpose: 'marketing', channels: ['whatsapp', 'sms'],
  texts: { en: 'Hi {{ contact.name }}', es: 'Hola {{ contact.name }}' },
  whatsapp_template: { name: 'spring_offer', languages: { en: 'en_US', es: 'es' }, body: ['{{contact.name}}'] },
  rate_per_minute: 120, holdout_percent: 10,
};

describe('campaign form', () => {
  it('round-trips a definition', () => {
    expect(campaignDefinition(campaignForm(spring))).toEqual(spring);
  });

  it('keeps a start time through the browser zone and refuses a missing segment', () => {
    const f = campaignForm({ ...spring, send_at: '2026-05-01T09:30:00.000Z' });
    expect(campaignDefinition(f).send_at).toBe('2026-05-01T09:30:00.000Z');
    const e = emptyCampaign();
    expect(() => campaignDefinition(e)).toThrow('choose a segment');
    e.segmentId = '4';
    e.texts = [{ lang: 'en', text: '  ' }];
    expect(campaignDefinition(e).texts).toEqual({});
  });
});

describe('campaign states and figures', () => {
  it('offers what each state allows', () => {
    expect(campaignActions('draft')).toContain('launch');
    expect(campaignActions('running')).toEqual(['pause', 'cancel']);
    expect(campaignActions('paused')).toContain('resume');
    expect(campaignActions('done')).toEqual(['delete']);
  });

  it('sums skips and failures', () => {
    const f = campaignFigures({ planned: 10, sent: 5, delivered: 4, read: 2, replied: 1, scheduled: 1, held_out: 1,
      skipped: { no_consent: 2, amazon_buyer: 1 }, failed: {} });
    expect(f).toMatchObject({ skipped: 3, failed: 0, waiting: 1 });
    expect(duration(125)).toEqual({ minutes: 2, seconds: 5 });
  });
});
