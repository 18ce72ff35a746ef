export interface TcpProxy {
  port: number
  via: (url: string) => string
  reset: () => void
  stall: () => void
  restore: () => Promise<void>
  close: () => Promise<void>
}
export function startTcpProxy (
  target: { host: string, port: number },
  options?: { onClientData?: (chunk: Buffer, connection: number) => void }
): Promise<TcpProxy>
