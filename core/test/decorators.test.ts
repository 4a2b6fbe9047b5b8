import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../src/index.js';
import { container, type InjectionToken, inject, injectable } from 'tsyringe';

// Pins the toolchain contract every DI-wired class relies on: legacy
// decorators compiled by tsc with emitDecoratorMetadata off, so a
// constructor parameter is wired only through its explicit @inject(TOKEN),
// never through emitted type metadata (which esbuild, tsx and Bun differ on).
interface Greeter {
  greet(): string;
}
const GREETER: InjectionToken<Greeter> = Symbol('Greeter');

@injectable()
class English implements Greeter {
  greet(): string {
    return 'hello';
  }
}

@injectable()
class Host {
  constructor(@inject(GREETER) readonly greeter: Greeter) {}
}

describe('DI wiring', () => {
  it('resolves constructor parameters by explicit token in a child container', () => {
    const child = container.createChildContainer();
    child.register(GREETER, { useClass: English });
    assert.equal(child.resolve(Host).greeter.greet(), 'hello');
  });

  it('does not depend on emitted design:paramtypes metadata', () => {
    assert.equal(Reflect.getMetadata('design:paramtypes', Host), undefined);
  });

  it('keeps registrations per child container', () => {
    const a = container.createChildContainer();
    const b = container.createChildContainer();
    a.register(GREETER, { useValue: { greet: () => 'a' } });
    assert.equal(a.resolve(Host).greeter.greet(), 'a');
    assert.throws(() => b.resolve(Host), /GREETER|Greeter|resolve/);
  });
});
