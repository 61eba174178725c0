// The roles, privacy and retention strings, English and Simplified
// Chinese, added to the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const privacyMessages: Catalog = {
  en: {
    'admin.roles': 'Roles', 'admin.privacy': 'Privacy',
    'roles.intro': 'Custom roles give agents exactly the permissions listed. Owners, admins and agents keep their built-in rights.',
    'roles.name': 'Role name', 'roles.refund_limit': 'Largest refund (empty: no limit)', 'roles.create': 'Create role',
    'roles.save': 'Save', 'roles.delete': 'Delete', 'roles.none': 'No custom roles yet.', 'roles.assign': 'Custom role',
    'roles.builtin': 'Built-in role only', 'roles.bad_name': 'Give the role a name other than owner, admin or agent.',
    'roles.bad_limit': 'The refund limit must be an amount of 0 or more.',
    'perm.view': 'See conversations and contacts', 'perm.assign': 'Assign and change conversations', 'perm.reply': 'Reply to buyers',
    'perm.manage_inboxes': 'Manage inboxes and shops', 'perm.manage_bot': 'Manage the bot', 'perm.manage_agents': 'Manage agents and teams',
    'perm.manage_canned_responses': 'Manage canned responses', 'perm.order_actions': 'Cancel, change and refund orders',
    'perm.see_unmasked': 'See phone numbers and e-mails in clear', 'perm.unmask': 'Reveal a contact on demand (audited)',
    'perm.reports': 'Read reports', 'perm.export': 'Export contacts’ data', 'perm.audit_log': 'Read the audit log',
    'retention.title': 'Retention', 'retention.intro': 'Older data is deleted by the nightly housekeeping. Leave empty to keep for ever.',
    'retention.conversations': 'Delete conversations idle for more than (days)', 'retention.attachments': 'Delete attachments older than (days)',
    'retention.save': 'Save', 'retention.saved': 'Saved.', 'retention.bad': 'Enter a number of days from 1 to 36500, or leave it empty.',
    'contact.masked': 'Phone numbers and e-mails are masked.', 'contact.unmask': 'Unmask', 'contact.unmasked': 'Shown in clear (recorded in the audit log).',
    'contact.export': 'Export data', 'contact.erase': 'Erase contact',
    'contact.erase_confirm': 'Erase {name}? Their messages, files, details and order data are removed for good. Conversations stay as anonymous counts.',
    'contact.erase_queued': 'The erasure has started.',
  },
  zh: {
    'admin.roles': '角色', 'admin.privacy': '隐私',
    'roles.intro': '自定义角色只拥有所列的权限。所有者、管理员和客服保留各自的内置权限。',
    'roles.name': '角色名称', 'roles.refund_limit': '最大退款金额（留空：不限）', 'roles.create': '创建角色',
    'roles.save': '保存', 'roles.delete': '删除', 'roles.none': '还没有自定义角色。', 'roles.assign': '自定义角色',
    'roles.builtin': '仅内置角色', 'roles.bad_name': '请为角色命名，且不能是 owner、admin 或 agent。',
    'roles.bad_limit': '退款上限必须是 0 或更大的金额。',
    'perm.view': '查看会话和联系人', 'perm.assign': '分配和更改会话', 'perm.reply': '回复买家',
    'perm.manage_inboxes': '管理收件箱和店铺', 'perm.manage_bot': '管理机器人', 'perm.manage_agents': '管理客服和团队',
    'perm.manage_canned_responses': '管理快捷回复', 'perm.order_actions': '取消、修改和退款订单',
    'perm.see_unmasked': '查看完整的电话和邮箱', 'perm.unmask': '按需显示联系人信息（记录审计）',
    'perm.reports': '查看报表', 'perm.export': '导出联系人数据', 'perm.audit_log': '查看审计日志',
    'retention.title': '数据保留', 'retention.intro': '超期数据由每日清理任务删除。留空表示永久保留。',
    'retention.conversations': '删除闲置超过以下天数的会话', 'retention.attachments': '删除早于以下天数的附件',
    'retention.save': '保存', 'retention.saved': '已保存。', 'retention.bad': '请输入 1 到 36500 之间的天数，或留空。',
    'contact.masked': '电话和邮箱已隐藏。', 'contact.unmask': '显示', 'contact.unmasked': '已显示完整信息（已记录到审计日志）。',
    'contact.export': '导出数据', 'contact.erase': '删除联系人',
    'contact.erase_confirm': '确定删除 {name}？其消息、文件、资料和订单信息将被永久删除，会话仅保留匿名统计。',
    'contact.erase_queued': '已开始删除。',
  },
};

for (const [locale, dict] of Object.entries(privacyMessages)) Object.assign((messages[locale] ??= {}), dict);
