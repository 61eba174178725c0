// Strings of the Usage page, English and Simplified Chinese, added to the
// console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const usageMessages: Catalog = {
  en: {
    'nav.usage': 'Usage', 'usage.title': 'Usage',
    'usage.intro': 'What the account used each month (UTC): buyers who wrote, conversations opened, messages per channel and conversations the bot resolved alone.',
    'usage.months': 'Months', 'usage.month': 'Month', 'usage.refresh': 'Refresh', 'usage.none': 'Nothing was used in these months.',
    'usage.active_contacts': 'Active contacts', 'usage.conversations_opened': 'Conversations opened',
    'usage.messages_in': 'Messages in', 'usage.messages_out': 'Messages out', 'usage.bot_resolutions': 'Resolved by the bot',
    'usage.total': 'Total', 'usage.channel': '{channel}: {incoming} in / {outgoing} out', 'usage.chart': 'Usage per month',
  },
  zh: {
    'nav.usage': '用量', 'usage.title': '用量',
    'usage.intro': '账户每月（UTC）的用量：来信的买家、新开的会话、各渠道的消息数，以及由机器人独立解决的会话。',
    'usage.months': '月数', 'usage.month': '月份', 'usage.refresh': '刷新', 'usage.none': '这些月份没有用量。',
    'usage.active_contacts': '活跃联系人', 'usage.conversations_opened': '新开会话',
    'usage.messages_in': '收到的消息', 'usage.messages_out': '发出的消息', 'usage.bot_resolutions': '机器人解决',
    'usage.total': '合计', 'usage.channel': '{channel}：收 {incoming} / 发 {outgoing}', 'usage.chart': '每月用量',
  },
};

for (const [locale, dict] of Object.entries(usageMessages)) Object.assign((messages[locale] ??= {}), dict);
