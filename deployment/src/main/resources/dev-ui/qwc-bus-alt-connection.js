import { LitElement, html, css } from 'lit';
import { JsonRpc } from 'jsonrpc';
import '@vaadin/button';
import '@vaadin/text-field';

/**
 * Bus Alt Connection: the listening connection, the @BusListener methods, a live feed of messages with a channel
 * filter, a form that sends a test message, and PgBouncer's pools when its statistics are read.
 */
export class QwcBusAltConnection extends LitElement {

    jsonRpc = new JsonRpc(this);

    static styles = css`
        :host { display: flex; flex-direction: column; gap: 1rem; padding: 1rem; }
        section h3 { margin: 0 0 0.4rem 0; font-size: var(--lumo-font-size-m); }
        table { border-collapse: collapse; width: 100%; font-size: var(--lumo-font-size-s); }
        th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--lumo-contrast-10pct); }
        th { color: var(--lumo-contrast-60pct); font-weight: normal; }
        .state { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; font-size: var(--lumo-font-size-s); }
        .state span:nth-child(odd) { color: var(--lumo-contrast-60pct); }
        .up { color: var(--lumo-success-text-color); }
        .down { color: var(--lumo-error-text-color); }
        form { display: flex; gap: 0.5rem; align-items: baseline; }
        form .payload-field { flex: 1; }
        .channel { max-width: 16rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .payload { font-family: var(--lumo-font-family-monospace, monospace); word-break: break-all; }
    `;

    static properties = {
        _state: { state: true },
        _listeners: { state: true },
        _groups: { state: true },
        _messages: { state: true },
        _pgbouncer: { state: true },
        _filter: { state: true },
        _sendResult: { state: true },
    };

    constructor() {
        super();
        this._messages = [];
        this._filter = '';
    }

    connectedCallback() {
        super.connectedCallback();
        this._refresh();
        this.jsonRpc.getRecentMessages().then(response => this._messages = response.result);
        this._observer = this.jsonRpc.streamMessages().onNext(response => {
            this._messages = [response.result, ...this._messages].slice(0, 200);
        });
        this._timer = setInterval(() => this._refresh(), 2000);
    }

    disconnectedCallback() {
        clearInterval(this._timer);
        if (this._observer) {
            this._observer.cancel();
        }
        super.disconnectedCallback();
    }

    _refresh() {
        this.jsonRpc.getState().then(response => this._state = response.result);
        this.jsonRpc.getListeners().then(response => this._listeners = response.result);
        this.jsonRpc.getGroups().then(response => this._groups = response.result);
        this.jsonRpc.getPgBouncer().then(response => this._pgbouncer = response.result);
    }

    render() {
        return html`
            ${this._renderState()}
            ${this._renderListeners()}
            ${this._renderGroups()}
            ${this._renderSend()}
            ${this._renderFeed()}
            ${this._renderPgBouncer()}`;
    }

    _renderState() {
        const s = this._state;
        if (!s) {
            return html`<section><h3>Listener</h3>Loading…</section>`;
        }
        return html`<section><h3>Listener</h3><div class="state">
            <span>Listening</span><span class="${s.listening ? 'up' : 'down'}">${s.active ? (s.listening ? 'yes' : 'no, reconnecting') : 'no: nothing to listen for'}</span>
            <span>Server</span><span>${s.server}</span>
            <span>Backend pid</span><span>${s.backendPid}</span>
            <span>Reconnections</span><span>${s.reconnections}</span>
            <span>Sequencer</span><span>${s.sequencer ? 'this instance' : 'another instance'}</span>
            <span>Epoch / head</span><span>${s.epoch} / ${s.head}</span>
            <span>Last probe</span><span>${s.lastProbe ?? '—'}${s.probeFailure ? ' (' + s.probeFailure + ')' : ''}</span>
            <span>Losses to retention</span><span>${s.losses}</span>
            <span>Live feed subscribers</span><span>${s.subscribers} (HTTP clients and this page)</span>
        </div></section>`;
    }

    _renderListeners() {
        const listeners = this._listeners ?? [];
        return html`<section><h3>@BusListener methods</h3><table>
            <tr><th>Channel</th><th>Method</th><th>Position</th><th>Lag</th>
                <th title="Calls that returned normally (outcome=success in imdispatcher.messages.delivered)">Delivered</th>
                <th title="Calls that threw, failed, or could not read the payload (outcome=failure)">Failed</th></tr>
            ${listeners.map(l => html`<tr><td class="channel" title="${l.channel}">${l.channel}</td><td>${l.method}</td><td>${l.position}</td>
                <td>${l.lag}</td><td>${l.delivered}</td><td class="${l.failed > 0 ? 'down' : ''}">${l.failed}</td></tr>`)}
        </table></section>`;
    }

    _renderGroups() {
        const groups = this._groups ?? [];
        if (groups.length === 0) {
            return html``;
        }
        return html`<section><h3>Durable consumer groups</h3><table id="groups">
            <tr><th>Group</th><th>Channel</th><th>Partition</th><th>Method</th>
                <th title="Whether this instance delivers the partition now (one instance of the fleet does)">Delivered here</th>
                <th>Position</th><th>Lag</th><th>Retries</th><th>Dead letters</th></tr>
            ${groups.map(g => html`<tr><td>${g.group}</td><td class="channel" title="${g.channel}">${g.channel}</td>
                <td>${g.partition}</td><td>${g.method}</td>
                <td class="${g.stopped || g.stuck ? 'down' : ''}" title="${g.stopped ?? (g.oldestUnfinished ? 'oldest unfinished since ' + g.oldestUnfinished : '')}">${g.stopped ? 'stopped' : (g.owner ? (g.stuck ? 'yes, stuck' : 'yes') : 'no, another instance')}</td>
                <td>${g.owner ? g.position : '—'}</td><td>${g.owner ? g.lag : '—'}</td><td>${g.retries}</td>
                <td class="${g.deadLetters > 0 ? 'down' : ''}">${g.deadLetters}</td></tr>`)}
        </table></section>`;
    }

    _renderSend() {
        return html`<section><h3>Send a test message</h3>
            <form @submit=${this._send}>
                <vaadin-text-field id="channel" label="Channel" required></vaadin-text-field>
                <vaadin-text-field id="payload" class="payload-field" label="Payload"></vaadin-text-field>
                <vaadin-button theme="primary" @click=${this._send}>Send</vaadin-button>
                <span>${this._sendResult ?? ''}</span>
            </form></section>`;
    }

    _send(event) {
        event.preventDefault();
        const channel = this.shadowRoot.getElementById('channel').value;
        const payload = this.shadowRoot.getElementById('payload').value;
        this.jsonRpc.sendTestMessage({ channel: channel, payload: payload }).then(response => {
            this._sendResult = response.result.sent ? 'sent on ' + channel : response.result.error;
        });
    }

    _renderFeed() {
        const shown = this._messages.filter(m => !this._filter || m.channel.includes(this._filter));
        return html`<section><h3>Messages</h3>
            <vaadin-text-field placeholder="filter by channel" clear-button-visible
                @value-changed=${e => this._filter = e.detail.value}></vaadin-text-field>
            <table>
                <tr><th>Position</th><th>Channel</th><th>Time</th><th>Payload</th></tr>
                ${shown.map(m => html`<tr><td>${m.position}</td><td class="channel" title="${m.channel}">${m.channel}</td><td>${m.time}</td>
                    <td class="payload">${m.payload}</td></tr>`)}
            </table></section>`;
    }

    _renderPgBouncer() {
        const p = this._pgbouncer;
        if (!p || !p.enabled) {
            return html`<section><h3>PgBouncer</h3>Set quarkus.imdispatcher.pgbouncer.host to see its pools.</section>`;
        }
        if (!p.pools) {
            return html`<section><h3>PgBouncer</h3>${p.failure ?? 'Not read yet.'}</section>`;
        }
        return html`<section><h3>PgBouncer pools</h3><table>
            <tr><th>Database</th><th>User</th><th>cl_active</th><th>cl_waiting</th><th>sv_active</th><th>sv_idle</th><th>maxwait (s)</th></tr>
            ${p.pools.map(pool => html`<tr><td>${pool.database}</td><td>${pool.user}</td><td>${pool.cl_active}</td>
                <td class="${pool.cl_waiting > 0 ? 'down' : ''}">${pool.cl_waiting}</td><td>${pool.sv_active}</td>
                <td>${pool.sv_idle}</td><td>${pool.maxwait}</td></tr>`)}
        </table></section>`;
    }
}
customElements.define('qwc-bus-alt-connection', QwcBusAltConnection);
