import { describe, expect, it } from 'vitest';
import { activityLine, activityZh, localizeActivity } from './activity';
import { translate } from '../lib/i18n';

const zh = (key: string, vars: Record<string, string>) => translate({ zh: activityZh }, 'zh', key, vars);

describe('activity lines', () => {
  it('are read with who did them', () => {
    expect(activityLine('Assigned to Li Wei by Mei Chen')).toEqual({ key: 'activity.assigned.by', vars: { name: 'Li Wei', by: 'Mei Chen' } });
    expect(activityLine('Team set to After-sales')).toEqual({ key: 'activity.team', vars: { name: 'After-sales' } });
    expect(activityLine('Something new happened')).toBeNull();
  });

  it('show in Chinese for a Chinese console, as written in English', () => {
    expect(localizeActivity('Assigned to Li Wei by Mei Chen', 'zh', zh)).toBe('已分配给 Li Wei（操作人：Mei Chen）');
    expect(localizeActivity('Resolved by the bot', 'zh', zh)).toBe('已解决（操作人：the bot）');
    expect(localizeActivity('Tagged shipping', 'zh', zh)).toBe('已添加标签 shipping');
    expect(localizeActivity('Assigned to Li Wei', 'en', zh)).toBe('Assigned to Li Wei');
    expect(localizeActivity('Unknown line', 'zh', zh)).toBe('Unknown line');
    expect(localizeActivity('Buyer rated the help 2/5: “sent by DHL, late”', 'zh', zh)).toBe('买家评价：2/5: “sent by DHL, late”');
  });
});
