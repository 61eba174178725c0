// The Alerts page's strings, English and Simplified Chinese, added to the
// console's catalog when the page's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const alertMessages: Catalog = {
  en: {
    'alerts.title': 'Alerts', 'alerts.intro': 'Ferry checks the connected shops every few minutes for stock-outs buyers ask about, low stock, late orders, carriers late to a country and products whose defect rate jumps.',
    'alerts.run': 'Run detectors now', 'alerts.running': 'Running…', 'alerts.ran': 'Checked {connections} {connections|shop|shops}: {found} {found|finding|findings}, {raised} new, {resolved} resolved.',
    'alerts.none': 'Nothing needs attention.', 'alerts.acknowledge': 'Acknowledge', 'alerts.resolve': 'Resolve',
    'alerts.status.open': 'Open', 'alerts.status.acknowledged': 'Acknowledged', 'alerts.status.resolved': 'Resolved', 'alerts.status.all': 'All',
    'alerts.kind.out_of_stock': 'Out of stock', 'alerts.kind.low_stock': 'Low stock', 'alerts.kind.late_order': 'Late order', 'alerts.kind.carrier_delay': 'Carrier delay',
    'alerts.kind.defect_rate': 'Defect rate',
    'alerts.severity.critical': 'Critical', 'alerts.severity.warning': 'Warning',
    'alerts.seen': 'First seen {first} · last seen {last}', 'alerts.open_order': 'Open order {order}',
    'alerts.fact.sku': 'SKU {sku}', 'alerts.fact.stock': 'Stock: {stock}',
    'alerts.fact.demand': 'Open conversations asking about it: {count}',
    'alerts.fact.sold': '{units} sold in {days} {days|day|days} ({rate} a day)', 'alerts.fact.cover': 'Runs out in about {days} {days|day|days}',
    'alerts.headline.out_of_stock': '{item} is out of stock but still listed', 'alerts.headline.low_stock': '{item} runs out in about {days} {days|day|days}',
    'alerts.headline.overdue': 'Order {order} is {days} {days|day|days} past its delivery estimate', 'alerts.headline.not_shipped': 'Order {order} has not shipped, {days} {days|day|days} late',
    'alerts.headline.carrier_delay': '{carrier} is late to {country}',
    'alerts.fact.order': 'Order {order}', 'alerts.fact.overdue': 'Not delivered: {days} {days|day|days} past the delivery estimate',
    'alerts.fact.not_shipped': 'Not shipped: {days} {days|day|days} past the promised ship date',
    'alerts.fact.shipment': 'Carrier {carrier} · tracking {tracking}', 'alerts.fact.country': 'Ships to {country}',
    'alerts.fact.route': '{carrier} → {country}', 'alerts.fact.late_share': '{late} of {shipments} shipments late ({share}; {others} for all other routes)',
    'alerts.fact.transit': 'Median transit: {days} {days|day|days}',
    'alerts.headline.defect_rate': 'Defect rate of {sku} jumped to {rate} of orders',
    'alerts.fact.defects': 'Last {days} {days|day|days}: {defects} defect {defects|conversation|conversations} for {orders} {orders|order|orders} ({rate})',
    'alerts.fact.defects_before': '{days} days before: {defects} for {orders} {orders|order|orders} ({rate})',
    'alerts.open_product': 'Product feedback for {sku}',
  },
  zh: {
    'alerts.title': '预警', 'alerts.intro': 'Ferry 每隔几分钟检查已连接的店铺：买家询问的缺货商品、库存不足、延迟订单、某个国家/地区的物流延误，以及质量问题率突增的商品。',
    'alerts.run': '立即检测', 'alerts.running': '检测中…', 'alerts.ran': '已检查 {connections} 个店铺：{found} 项发现，{raised} 项新增，{resolved} 项已解决。',
    'alerts.none': '暂无需要处理的事项。', 'alerts.acknowledge': '确认', 'alerts.resolve': '解决',
    'alerts.status.open': '待处理', 'alerts.status.acknowledged': '已确认', 'alerts.status.resolved': '已解决', 'alerts.status.all': '全部',
    'alerts.kind.out_of_stock': '缺货', 'alerts.kind.low_stock': '库存不足', 'alerts.kind.late_order': '订单延迟', 'alerts.kind.carrier_delay': '物流延误',
    'alerts.kind.defect_rate': '质量问题率',
    'alerts.severity.critical': '严重', 'alerts.severity.warning': '警告',
    'alerts.seen': '首次发现 {first} · 最近发现 {last}', 'alerts.open_order': '打开订单 {order}',
    'alerts.fact.sku': 'SKU {sku}', 'alerts.fact.stock': '库存：{stock}',
    'alerts.fact.demand': '询问此商品的未关闭会话：{count}',
    'alerts.fact.sold': '{days} 天内售出 {units} 件（每天 {rate} 件）', 'alerts.fact.cover': '约 {days} 天后售罄',
    'alerts.headline.out_of_stock': '{item} 已缺货，但仍在售', 'alerts.headline.low_stock': '{item} 约 {days} 天后售罄',
    'alerts.headline.overdue': '订单 {order} 已超过预计送达时间 {days} 天', 'alerts.headline.not_shipped': '订单 {order} 尚未发货，已延迟 {days} 天',
    'alerts.headline.carrier_delay': '{carrier} 寄往 {country} 的包裹延误',
    'alerts.fact.order': '订单 {order}', 'alerts.fact.overdue': '未送达：已超过预计送达时间 {days} 天',
    'alerts.fact.not_shipped': '未发货：已超过承诺发货时间 {days} 天',
    'alerts.fact.shipment': '承运商 {carrier} · 运单号 {tracking}', 'alerts.fact.country': '寄往 {country}',
    'alerts.fact.route': '{carrier} → {country}', 'alerts.fact.late_share': '{shipments} 个包裹中 {late} 个延误（{share}；其他线路为 {others}）',
    'alerts.fact.transit': '运输时间中位数：{days} 天',
    'alerts.headline.defect_rate': '{sku} 的质量问题率升至订单的 {rate}',
    'alerts.fact.defects': '最近 {days} 天：{orders} 个订单对应 {defects} 个质量问题会话（{rate}）',
    'alerts.fact.defects_before': '此前 {days} 天：{orders} 个订单对应 {defects} 个（{rate}）',
    'alerts.open_product': '查看 {sku} 的商品反馈',
  },
};

for (const [locale, dict] of Object.entries(alertMessages)) Object.assign((messages[locale] ??= {}), dict);
