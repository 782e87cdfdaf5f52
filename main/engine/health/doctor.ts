/**
 * `mcp-tether doctor`: layered diagnosis of one endpoint (placeholder being replaced).
 */
import type { DoctorReport } from '../../common/domain.js';
import type { EndpointConfig } from '../../common/schemas.js';

/** Diagnoses an endpoint layer by layer. */
export async function runDoctor(name: string, config: EndpointConfig): Promise<DoctorReport> {
  return { endpoint: name, url: config.url, ok: false, steps: [] };
}
