// Strings of order actions and the audit log, English and Simplified
// Chinese, added to the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const actionMessages: Catalog = {
  en: {
    'action.cancel': 'Cancel order', 'action.refund': 'Refund', 'action.update_shipping_address': 'Change address',
    'action.close': 'Close', 'action.working': 'Working…', 'action.failed': 'The shop did not do it: {message}',
    'action.done.cancel': 'Order cancelled.', 'action.done.refund': 'Refund made.', 'action.done.update_shipping_address': 'Address changed.',
    'action.notify': 'E-mail the customer', 'action.cancel.reason': 'Reason', 'action.cancel.restock': 'Put the items back in stock',
    'action.cancel.confirm': 'Cancel {order} in the shop?', 'action.cancel.submit': 'Yes, cancel the order',
    'action.reason.customer': 'Customer asked', 'action.reason.inventory': 'Out of stock', 'action.reason.fraud': 'Fraud',
    'action.reason.declined': 'Payment declined', 'action.reason.other': 'Other',
    'action.refund.full': 'Everything left ({amount})', 'action.refund.partial': 'An amount', 'action.refund.amount': 'Amount',
    'action.refund.note': 'Note (shown in the shop)', 'action.refund.submit': 'Refund {amount}',
    'action.refund.amount_invalid': 'Give an amount above zero, e.g. 12.50.', 'action.refund.amount_too_high': 'At most {amount} is left to refund.',
    'action.address.name': 'Recipient', 'action.address.address1': 'Street and number', 'action.address.address2': 'More of the address',
    'action.address.city': 'City', 'action.address.province': 'State / province', 'action.address.zip': 'Postal code',
    'action.address.country_code': 'Country code (e.g. US, DE)', 'action.address.phone': 'Phone', 'action.address.submit': 'Save the new address',
    'action.address.missing': 'Please fill in: {field}.',
    'admin.audit': 'Audit log', 'audit.intro': 'Every order action taken in the console or through the API, done or refused.',
    'audit.none': 'Nothing recorded yet.', 'audit.when': 'When', 'audit.who': 'Who', 'audit.what': 'Action', 'audit.target': 'Record',
    'audit.outcome': 'Outcome', 'audit.ok': 'done', 'audit.failed': 'failed', 'audit.more': 'Older entries',
    'audit.action.order.cancel': 'Cancel order', 'audit.action.order.refund': 'Refund', 'audit.action.order.update_shipping_address': 'Change address',
  },
  zh: {
    'action.cancel': '取消订单', 'action.refund': '退款', 'action.update_shipping_address': '修改地址',
    'action.close': '关闭', 'action.working': '处理中…', 'action.failed': '店铺未执行：{message}',
    'action.done.cancel': '订单已取消。', 'action.done.refund': '已退款。', 'action.done.update_shipping_address': '地址已修改。',
    'action.notify': '给顾客发邮件', 'action.cancel.reason': '原因', 'action.cancel.restock': '商品退回库存',
    'action.cancel.confirm': '在店铺中取消 {order}？', 'action.cancel.submit': '确认取消订单',
    'action.reason.customer': '顾客要求', 'action.reason.inventory': '缺货', 'action.reason.fraud': '欺诈',
    'action.reason.declined': '付款被拒', 'action.reason.other': '其他',
    'action.refund.full': '剩余全部（{amount}）', 'action.refund.partial': '指定金额', 'action.refund.amount': '金额',
    'action.refund.note': '备注（店铺中可见）', 'action.refund.submit': '退款 {amount}',
    'action.refund.amount_invalid': '请输入大于零的金额，例如 12.50。', 'action.refund.amount_too_high': '最多还可退 {amount}。',
    'action.address.name': '收件人', 'action.address.address1': '街道和门牌号', 'action.address.address2': '地址补充',
    'action.address.city': '城市', 'action.address.province': '州/省', 'action.address.zip': '邮编',
    'action.address.country_code': '国家代码（如 US、DE）', 'action.address.phone': '电话', 'action.address.submit': '保存新地址',
    'action.address.missing': '请填写：{field}。',
    'admin.audit': '审计日志', 'audit.intro': '在控制台或通过 API 对订单执行的每个操作，无论成功与否。',
    'audit.none': '暂无记录。', 'audit.when': '时间', 'audit.who': '操作人', 'audit.what': '操作', 'audit.target': '对象',
    'audit.outcome': '结果', 'audit.ok': '成功', 'audit.failed': '失败', 'audit.more': '更早的记录',
    'audit.action.order.cancel': '取消订单', 'audit.action.order.refund': '退款', 'audit.action.order.update_shipping_address': '修改地址',
  },
};

for (const [locale, dict] of Object.entries(actionMessages)) Object.assign((messages[locale] ??= {}), dict);
