// Strings of the Campaigns page, English and Simplified Chinese, added to
// the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const campaignMessages: Catalog = {
  en: {
    'nav.campaigns': 'Campaigns',
    'campaigns.title': 'Campaigns',
    'campaigns.intro': 'One message to a saved segment, in each buyer’s language, at the rate you choose. Ferry never sends marketing to Amazon buyers, to buyers without consent where the account asks for it, on a channel the buyer stopped, during their night, or beyond the weekly cap.',
    'campaigns.new': 'New campaign', 'campaigns.none': 'No campaigns yet.', 'campaigns.name': 'Name', 'campaigns.segment': 'Segment',
    'campaigns.choose_segment': 'Choose a segment', 'campaigns.purpose': 'Purpose', 'campaigns.purpose.marketing': 'Marketing',
    'campaigns.purpose.transactional': 'About the buyer’s orders', 'campaigns.channels': 'Channels, in order',
    'campaigns.texts': 'Text per language', 'campaigns.text_hint': 'Placeholder: {{ contact.name }}. Other languages get the account’s language, else the first text.',
    'campaigns.add_text': 'Add a language', 'campaigns.lang': 'Language',
    'campaigns.template': 'WhatsApp marketing template (closed window)', 'campaigns.template_languages': 'Languages (es=es, en=en_US)',
    'campaigns.template_body': 'Body values, separated by |', 'campaigns.send_at': 'Start (empty: when launched)',
    'campaigns.rate': 'Messages a minute', 'campaigns.holdout': 'Hold-out group (%)',
    'campaigns.save': 'Save draft', 'campaigns.saved': 'Saved.',
    'campaigns.state.draft': 'Draft', 'campaigns.state.scheduled': 'Scheduled', 'campaigns.state.running': 'Sending',
    'campaigns.state.paused': 'Paused', 'campaigns.state.done': 'Done', 'campaigns.state.cancelled': 'Cancelled',
    'campaigns.launch': 'Launch', 'campaigns.pause': 'Pause', 'campaigns.resume': 'Resume', 'campaigns.cancel': 'Cancel campaign',
    'campaigns.delete': 'Delete', 'campaigns.refresh': 'Refresh',
    'campaigns.preview': 'Audience: {audience} · held out about {held_out} · takes about {minutes} min {seconds} s',
    'campaigns.preview_language': '{language}: {contacts} — “{text}”', 'campaigns.unknown_language': 'language unknown',
    'campaigns.figures': '{planned} decided · {sent} sent · {delivered} delivered · {read} read · {replied} answered · {waiting} waiting · {held_out} held out · {skipped} skipped · {failed} failed',
    'campaigns.skipped_because': 'Skipped because: {reasons}', 'campaigns.log': 'Recipients',
    'campaigns.readonly': 'A launched campaign does not change; cancel it and write a new one.',
  },
  zh: {
    'nav.campaigns': '营销活动',
    'campaigns.title': '营销活动',
    'campaigns.intro': '向已保存的分群发送一条消息，使用每位买家的语言，按您设定的速率发送。Ferry 绝不向亚马逊买家发送营销消息，也不会在账户要求同意时发给未同意的买家、发到买家已退订的渠道、在买家夜间发送，或超过每周上限。',
    'campaigns.new': '新建活动', 'campaigns.none': '还没有营销活动。', 'campaigns.name': '名称', 'campaigns.segment': '分群',
    'campaigns.choose_segment': '选择分群', 'campaigns.purpose': '用途', 'campaigns.purpose.marketing': '营销',
    'campaigns.purpose.transactional': '关于买家的订单', 'campaigns.channels': '渠道（按顺序）',
    'campaigns.texts': '各语言文本', 'campaigns.text_hint': '占位符：{{ contact.name }}。其他语言使用账户语言，否则使用第一条文本。',
    'campaigns.add_text': '添加语言', 'campaigns.lang': '语言',
    'campaigns.template': 'WhatsApp 营销模板（窗口关闭时）', 'campaigns.template_languages': '语言（es=es, en=en_US）',
    'campaigns.template_body': '正文参数，用 | 分隔', 'campaigns.send_at': '开始时间（留空：启动时）',
    'campaigns.rate': '每分钟消息数', 'campaigns.holdout': '对照组（%）',
    'campaigns.save': '保存草稿', 'campaigns.saved': '已保存。',
    'campaigns.state.draft': '草稿', 'campaigns.state.scheduled': '已排期', 'campaigns.state.running': '发送中',
    'campaigns.state.paused': '已暂停', 'campaigns.state.done': '已完成', 'campaigns.state.cancelled': '已取消',
    'campaigns.launch': '启动', 'campaigns.pause': '暂停', 'campaigns.resume': '继续', 'campaigns.cancel': '取消活动',
    'campaigns.delete': '删除', 'campaigns.refresh': '刷新',
    'campaigns.preview': '受众：{audience} · 对照组约 {held_out} · 约需 {minutes} 分 {seconds} 秒',
    'campaigns.preview_language': '{language}：{contacts} — “{text}”', 'campaigns.unknown_language': '语言未知',
    'campaigns.figures': '已决定 {planned} · 已发送 {sent} · 已送达 {delivered} · 已读 {read} · 已回复 {replied} · 等待 {waiting} · 对照组 {held_out} · 已跳过 {skipped} · 失败 {failed}',
    'campaigns.skipped_because': '跳过原因：{reasons}', 'campaigns.log': '收件人',
    'campaigns.readonly': '已启动的活动不能修改；请取消后新建。',
  },
};

for (const [locale, dict] of Object.entries(campaignMessages)) Object.assign((messages[locale] ??= {}), dict);
