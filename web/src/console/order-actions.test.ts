import { describe, expect, it } from 'vitest';
import type { Order, OrderActionState } from '../api/types';
import { actionMessages } from './action-messages';
import {
  addressBody, addressForm, addressProblem, amountProblem, auditSummary, cancelBody, refundableLeft, refundBody, visibleActions,
} from './order-actions';

const state = (action: string, allowed: boolean, code: string | null = null, reason: string | null = null): OrderActionState => ({
  action, allowed, code, reason,
});

function order(over: Partial<Order> = {}): Order {
  return {
    id: 1, connection_id: 1, number: '1001', name: '#1001', state: 'paid', financial_status: 'paid', currency: 'USD', total: '275.01',
    line_items: [], fulfillments: [], refunds: [], created_at: '2026-03-01T10:00:00Z', updated_at: '2026-03-01T10:00:00Z', ...over,
  };
}

describe('visibleActions', () => {
  it('shows what is allowed and hides what the role forbids', () => {
    const r = visibleActions([state('cancel', true), state('refund', false, 'forbidden', 'only owners and admins can refund orders'), state('update_shipping_address', true)]);
    expect(r).toEqual({ shown: ['cancel', 'update_shipping_address'], note: null });
  });
  it("gives the connection's reason when it allows nothing", () => {
    const why = 'this shop connection has no Admin API access';
    const r = visibleActions(['cancel', 'refund', 'update_shipping_address'].map((a) => state(a, false, 'not_supported', why)));
    expect(r).toEqual({ shown: [], note: why });
  });
  it('says nothing when the order state is the only obstacle', () => {
    expect(visibleActions([state('cancel', false, 'order_state', 'already cancelled')])).toEqual({ shown: [], note: null });
  });
});

describe('refunds', () => {
  it('know what is left, in the currency digits', () => {
    expect(refundableLeft(order())).toBe('275.01');
    const refunded = order({ refunds: [{ amount: '5.00', note: null, created_at: '2026-03-02T00:00:00Z' }, { amount: '89.00', note: null, created_at: '2026-03-02T00:00:00Z' }] });
    expect(refundableLeft(refunded)).toBe('181.01');
    expect(refundableLeft(order({ total: '1500', currency: 'JPY', refunds: [{ amount: '2000', note: null, created_at: '2026-03-02T00:00:00Z' }] }))).toBe('0');
  });
  it('check the amount against what is left', () => {
    expect(amountProblem('12.50', '275.01')).toBeNull();
    expect(amountProblem('275.01', '275.01')).toBeNull();
    expect(amountProblem('275.02', '275.01')).toBe('action.refund.amount_too_high');
    for (const bad of ['0', '', 'abc', '-3', '1.234', '1,50']) expect(amountProblem(bad, '275.01'), bad).toBe('action.refund.amount_invalid');
  });
  it('send an amount only when one was chosen', () => {
    expect(refundBody({ mode: 'full', amount: '3', note: ' ', notify: true }, 7)).toEqual({ amount: undefined, note: undefined, notify_customer: true, conversation_id: 7 });
    expect(refundBody({ mode: 'amount', amount: ' 3.50 ', note: 'late', notify: false })).toEqual({ amount: '3.50', note: 'late', notify_customer: false, conversation_id: undefined });
  });
});

describe('addresses', () => {
  it('start from the order and are checked before sending', () => {
    const f = addressForm(order({ shipping_address: { name: 'Ana', address1: 'Rua 1', city: 'Lisboa', country_code: 'PT' } }));
    expect(f.zip).toBe('');
    expect(addressProblem(f)).toBeNull();
    expect(addressProblem({ ...f, city: ' ' })).toBe('city');
    expect(addressProblem({ ...f, country_code: 'PRT' })).toBe('country_code');
    expect(addressProblem(addressForm(order()))).toBe('name');
    expect(addressBody({ ...f, country_code: ' pt ', name: ' Ana ' }, 3)).toMatchObject({ name: 'Ana', country_code: 'PT', conversation_id: 3 });
    expect(addressBody(f)).not.toHaveProperty('conversation_id');
  });
});

describe('cancel and the audit log', () => {
  it('build the cancel body and summarise entries', () => {
    expect(cancelBody({ reason: 'inventory', notify: false, restock: true }, null)).toEqual({ reason: 'inventory', notify_customer: false, restock: true, conversation_id: undefined });
    expect(auditSummary({ action: 'order.cancel', details: { order: '#1002', reason: 'customer' } })).toBe('#1002 · customer');
    expect(auditSummary({ action: 'order.refund', details: { order: '#1003', amount: '5.00', currency: 'USD' } })).toBe('#1003 · 5.00 USD');
    expect(auditSummary({ action: 'order.refund', details: { order: '#1003', amount: null } })).toBe('#1003 · full');
    expect(auditSummary({ action: 'order.update_shipping_address', details: { order: '#1', shipping_address: { city: 'Lisboa', country_code: 'PT' } } })).toBe('#1 · Lisboa, PT');
  });
  it('have every string in both languages', () => {
    expect(Object.keys(actionMessages.en).filter((k) => !(k in actionMessages.zh))).toEqual([]);
    expect(Object.keys(actionMessages.zh).filter((k) => !(k in actionMessages.en))).toEqual([]);
  });
});
