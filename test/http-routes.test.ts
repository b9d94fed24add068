import { describe, expect, it } from 'vitest'
import { HttpRoutes, type HttpRequest, type HttpResponse } from '../src/native-free-core/http/http-routes.js'

const request = (path: string, origin: string): HttpRequest => ({ method: 'GET', path, headers: { origin }, body: null, remoteAddress: '127.0.0.1' })

describe('HTTP routes', () => {
  it('adds the CORS headers of each request to a copy of the response, so a route may answer every request with one object', async () => {
    const routes = new HttpRoutes({ allowAllOrigins: false, origins: ['https://a.example', 'https://b.example'] })
    // A plugin's route may hand out one response object to every request.
    const withHeaders: HttpResponse = Object.freeze({ status: 200, body: 'with', headers: Object.freeze({ 'content-type': 'text/plain' }) })
    const bare: HttpResponse = Object.freeze({ status: 200, body: 'bare' })
    routes.get('/with', () => withHeaders)
    routes.get('/bare', () => bare)
    for (const origin of ['https://a.example', 'https://b.example']) {
      expect(await routes.dispatch(request('/with', origin))).toEqual({
        status: 200, body: 'with', headers: { 'content-type': 'text/plain', 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' },
      })
      expect(await routes.dispatch(request('/bare', origin))).toEqual({
        status: 200, body: 'bare', headers: { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' },
      })
    }
    expect(withHeaders.headers).toEqual({ 'content-type': 'text/plain' })
  })

  it('lets a route set a CORS header of its own', async () => {
    const routes = new HttpRoutes({ allowAllOrigins: true, origins: [] })
    routes.get('/own', () => ({ status: 200, headers: { 'access-control-allow-origin': 'https://mine.example' } }))
    expect((await routes.dispatch(request('/own', 'https://a.example'))).headers).toEqual({ 'access-control-allow-origin': 'https://mine.example' })
  })
})
