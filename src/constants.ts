/**
 * Every constant Butter exposes, under its C name (as `fs.constants`): each
 * family's `constants`, from its table in C. The values come from the kernel
 * and libc headers the addon was built with.
 */
import { native, type Families } from './core/native';

type FamilyConstants = { [F in keyof Families]: Families[F] extends { readonly constants: infer C } ? C : never }[keyof Families];
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

export const constants: Readonly<Intersection<FamilyConstants>> = Object.freeze(
  Object.assign({}, ...native.families.map((f) => (native[f] as { constants?: object }).constants)),
);
