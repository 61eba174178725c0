// The strings of merging contacts, English and Simplified Chinese, added
// to the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const mergeMessages: Catalog = {
  en: {
    'merge.duplicates': 'Possible duplicates', 'merge.merge': 'Merge into this contact',
    'merge.confirm': 'Merge {name} into {into}? Their conversations, channels, tags and attributes move here. An admin can undo it for 30 days.',
    'merge.done': '{name} was merged into this contact.', 'merge.merged': 'Merged contacts', 'merge.undo': 'Undo',
    'merge.undone': 'The merge was undone; {name} is a contact of its own again.',
    'merge.reason.same_phone': 'same phone', 'merge.reason.same_email': 'same e-mail',
    'merge.reason.same_name_and_country': 'same name and country',
    'merge.failed': 'Could not merge: {message}',
  },
  zh: {
    'merge.duplicates': '可能重复的联系人', 'merge.merge': '合并到此联系人',
    'merge.confirm': '确定将 {name} 合并到 {into}？其会话、渠道、标签和属性将转到这里。管理员可在 30 天内撤销。',
    'merge.done': '{name} 已合并到此联系人。', 'merge.merged': '已合并的联系人', 'merge.undo': '撤销',
    'merge.undone': '已撤销合并；{name} 重新成为独立联系人。',
    'merge.reason.same_phone': '电话相同', 'merge.reason.same_email': '邮箱相同',
    'merge.reason.same_name_and_country': '姓名和国家相同',
    'merge.failed': '无法合并：{message}',
  },
};

for (const [locale, dict] of Object.entries(mergeMessages)) Object.assign((messages[locale] ??= {}), dict);
