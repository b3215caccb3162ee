/**
 * Every module that defines library kernels. Pool threads and distributed workers import this
 * once, so every kernel name is known on every thread. Collections add their chunk modules here.
 */
import './graph/kernels.js';
import './collections/array/kernels.js';
import './collections/bag/kernels.js';
